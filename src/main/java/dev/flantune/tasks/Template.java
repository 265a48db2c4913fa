package dev.flantune.tasks;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A FLAN-style {@code (input, target)} template pair. Placeholders are {@code {identifier}}: an
 * example field, {@code {answer}} (the answer text) or {@code {options_}} (the options block).
 * Literal braces are not supported, so any brace outside a well-formed placeholder is an error at
 * load, so typos such as an unclosed placeholder are caught before they reach training data, as is
 * FLAN's own shipped slip, a stray {@code n} left by a lost backslash ({@code "{hypothesis}n\n"}).
 *
 * @param index 0-based position in the task's template list (reported with every rendering)
 * @param turned a "turned around" template (FLAN: up to 3 per dataset) that asks for something
 *     other than the answer; rank classification skips these because their target may not contain
 *     {@code {answer}}
 */
public record Template(
    int index,
    String input,
    String target,
    boolean turned,
    List<Part> inputParts,
    List<Part> targetParts) {

  public static final String ANSWER = "answer";
  public static final String OPTIONS = "options_";

  /** A literal run of text, or a placeholder naming a field. */
  public record Part(String text, boolean field) {}

  public Template {
    inputParts = List.copyOf(inputParts);
    targetParts = List.copyOf(targetParts);
  }

  /**
   * Parses a template, or throws {@link IllegalArgumentException} with a message naming the part
   * ({@code input} or {@code target}) and the problem; the loader adds file, task and index.
   */
  public static Template of(int index, String input, String target, boolean turned) {
    return new Template(
        index, input, target, turned, parse("input", input), parse("target", target));
  }

  static List<Part> parse(String which, String text) {
    if (text == null || text.isBlank())
      throw new IllegalArgumentException(which + ": empty template");
    if (text.contains("\\n")) {
      // YAML single-quoted and plain scalars keep "\n" as two characters: almost always a mistake.
      throw new IllegalArgumentException(
          which
              + ": contains a literal backslash-n; write the template in double "
              + "quotes so \\n becomes a newline");
    }
    List<Part> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder();
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (c == '}') throw new IllegalArgumentException(which + ": stray '}' at character " + i);
      if (c != '{') {
        literal.append(c);
        i++;
        continue;
      }
      int end = text.indexOf('}', i);
      String name = end < 0 ? null : text.substring(i + 1, end);
      if (name == null || !isIdentifier(name)) {
        throw new IllegalArgumentException(
            which
                + ": malformed placeholder at character "
                + i
                + " (placeholders are {identifier}; literal braces are not allowed)");
      }
      if (literal.length() > 0) parts.add(new Part(literal.toString(), false));
      literal.setLength(0);
      parts.add(new Part(name, true));
      if (text.startsWith("n\n", end + 1)) {
        throw new IllegalArgumentException(
            which + ": stray 'n' after {" + name + "} (a lost backslash?)");
      }
      i = end + 1;
    }
    if (literal.length() > 0) parts.add(new Part(literal.toString(), false));
    return parts;
  }

  static boolean isIdentifier(String s) {
    if (s.isEmpty() || !(Character.isLetter(s.charAt(0)) || s.charAt(0) == '_')) return false;
    for (int i = 1; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!(Character.isLetterOrDigit(c) || c == '_')) return false;
    }
    return true;
  }

  /**
   * The example fields the template reads (excluding {@code answer} and {@code options_}), in
   * order.
   */
  public Set<String> exampleFields() {
    Set<String> out = new LinkedHashSet<>();
    for (List<Part> ps : List.of(inputParts, targetParts)) {
      for (Part p : ps)
        if (p.field && !p.text.equals(ANSWER) && !p.text.equals(OPTIONS)) out.add(p.text);
    }
    return out;
  }

  public boolean uses(String field) {
    for (List<Part> ps : List.of(inputParts, targetParts)) {
      for (Part p : ps) if (p.field && p.text.equals(field)) return true;
    }
    return false;
  }

  public boolean targetUsesAnswer() {
    for (Part p : targetParts) if (p.field && p.text.equals(ANSWER)) return true;
    return false;
  }

  /**
   * Renders the input; {@code fields} resolves every placeholder, {@code answer} and {@code
   * options_} included.
   */
  public String renderInput(Function<String, String> fields) {
    return render(inputParts, fields);
  }

  public String renderTarget(Function<String, String> fields) {
    return render(targetParts, fields);
  }

  private static String render(List<Part> parts, Function<String, String> fields) {
    StringBuilder sb = new StringBuilder(128);
    for (Part p : parts) {
      if (!p.field) {
        sb.append(p.text);
        continue;
      }
      String v = fields.apply(p.text);
      // Fields are checked per example when it is read, so a miss here is a programming error.
      if (v == null) throw new IllegalStateException("no value for {" + p.text + "}");
      sb.append(v);
    }
    return sb.toString();
  }
}
