package dev.flantune.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import java.util.Map;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.ExpressionFactory;

/**
 * Where jinjava's expression language parses or tests differently from Jinja, in ways real chat
 * templates hit (Llama 3.1/3.2's {@code {% if not tools is defined %}}; the golden tests found
 * both):
 *
 * <ul>
 *   <li>{@code not} binds looser than comparisons, tests and filters in Jinja ({@code not x is
 *       defined} is {@code not (x is defined)}); jinjava's unary {@code not} binds tightest.
 *   <li>{@code is iterable} is true of a string in Jinja (Python strings iterate).
 * </ul>
 */
public final class JinjaSyntax {
  private JinjaSyntax() {}

  /** A jinjava engine whose expressions parse with Jinja's {@code not}. */
  static Jinjava engine(JinjavaConfig config) {
    Properties properties = new Properties();
    properties.setProperty(TreeBuilder.class.getName(), JinjaBuilder.class.getName());
    ExpressionFactory factory = new ExpressionFactoryImpl(properties, new TruthyTypeConverter());
    Jinjava jinjava =
        new Jinjava(config) {
          @Override
          public ExpressionFactory getExpressionFactory() {
            return factory;
          }
        };
    jinjava.getGlobalContext().registerExpTest(new StringsIterable());
    return jinjava;
  }

  /** Builds {@link JinjaParser}s; public with a no-argument constructor for the EL factory. */
  public static final class JinjaBuilder extends ExtendedSyntaxBuilder {
    private static final long serialVersionUID = 1L;

    public JinjaBuilder() {
      super();
    }

    public JinjaBuilder(Feature... features) {
      super(features);
    }

    @Override
    protected Parser createParser(String expression) {
      return new JinjaParser(this, expression);
    }
  }

  static final class JinjaParser extends ExtendedParser {
    JinjaParser(JinjaBuilder builder, String input) {
      super(builder, input);
    }

    // Jinja: not_expr := 'not' not_expr | comparison. The operand is everything down from the
    // equality level (comparisons, 'in', tests, arithmetic, filters), not a single value.
    @Override
    protected AstNode unary(boolean required) throws Scanner.ScanException, Parser.ParseException {
      if (getToken().getSymbol() == Scanner.Symbol.NOT) {
        consumeToken();
        return createAstUnary(eq(true), AstUnary.NOT);
      }
      return super.unary(required);
    }
  }

  /** {@code is iterable}: lists, maps and strings, as Python's iter() accepts. */
  static final class StringsIterable implements ExpTest {
    @Override
    public String getName() {
      return "iterable";
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
      return var instanceof Iterable<?> || var instanceof Map<?, ?> || var instanceof String;
    }
  }
}
