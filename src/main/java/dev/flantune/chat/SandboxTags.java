package dev.flantune.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.tag.ForTag;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import com.hubspot.jinjava.util.LengthLimitingStringBuilder;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** The tags flan-tune puts in place of, or beside, jinjava's own. */
final class SandboxTags {
  private SandboxTags() {}

  /**
   * {@code for}, charged against the render's loop budget. Each loop is charged its length when it
   * starts, so nested loops are charged once per inner run and an empty-bodied triple loop is
   * stopped as surely as one that prints; a loop over an iterator of unknown length is charged per
   * item.
   */
  static final class GuardedFor extends ForTag {
    @Override
    public String renderForCollection(
        TagNode tagNode, JinjavaInterpreter interpreter, List<String> loopVars, Object collection) {
      RenderGuard guard = RenderGuard.current();
      Object items = collection;
      if (items instanceof Collection<?> c) guard.chargeLoop(c.size());
      else if (items instanceof Map<?, ?> m) guard.chargeLoop(m.size());
      else if (items instanceof Iterable<?> it) items = charged(it.iterator(), guard);
      else if (items instanceof Iterator<?> it) items = charged(it, guard);
      else guard.chargeLoop(1);
      return super.renderForCollection(tagNode, interpreter, loopVars, items);
    }

    private static Iterator<Object> charged(Iterator<?> it, RenderGuard guard) {
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return it.hasNext();
        }

        @Override
        public Object next() {
          guard.chargeLoop(1);
          return it.next();
        }
      };
    }
  }

  /**
   * transformers' {@code {% generation %}…{% endgeneration %}}: marks the assistant's part for its
   * own masks and renders its body unchanged. Assistant spans are better found by rendering
   * conversation prefixes, which also works for templates without the block.
   */
  static final class Generation implements Tag {
    @Override
    public String getName() {
      return "generation";
    }

    @Override
    public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
      LengthLimitingStringBuilder out =
          new LengthLimitingStringBuilder(interpreter.getConfig().getMaxOutputSize());
      for (Node child : tagNode.getChildren()) out.append(child.render(interpreter).getValue());
      return out.toString();
    }
  }
}
