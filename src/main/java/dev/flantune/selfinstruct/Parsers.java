package dev.flantune.selfinstruct;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the model's continuations back into instructions, classification answers and instances.
 *
 * <p>The paper's instruction parser splits on {@code "\n<digits>. "} only, so a list whose
 * numbering changes style mid-way ({@code 11)} or {@code 12:}) or stops glues items together, and
 * it keeps a truncated last item unless the API said the text was cut. Here a line starts a new
 * item when it opens with a number and one of {@code . ) :} (or the expected next number and a
 * space), or when the line above ended a sentence ({@code . ? !}) and this one opens with a capital
 * letter (an item whose number the model left out). Other non-blank lines continue the item above
 * (an instruction broken across lines), a blank line ends the list, and when generation hit its
 * token limit the last item, maybe cut mid-sentence, is dropped.
 */
public final class Parsers {
  private Parsers() {}

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");
  private static final Pattern MARKER = Pattern.compile("^\\s*(\\d+)\\s?([.):])\\s*(.*)$");
  private static final Pattern BARE_NUMBER = Pattern.compile("^\\s*(\\d+)\\s+(.*)$");

  public static String collapseWhitespace(String s) {
    return WHITESPACE.matcher(s).replaceAll(" ").strip();
  }

  /**
   * The instructions in a continuation of {@link Prompts#instructionGeneration} whose prompt ended
   * with {@code firstNumber.}: the text before the first newline is item {@code firstNumber}. Items
   * come back whitespace-collapsed, first letter upper-cased, empty ones left out.
   */
  public static List<String> instructions(
      String continuation, int firstNumber, TextSampler.Finish finish) {
    List<StringBuilder> items = new ArrayList<>();
    items.add(new StringBuilder());
    int expected = firstNumber + 1;
    String[] lines = continuation.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (i == 0) {
        items.get(0).append(line);
        continue;
      }
      if (line.isBlank()) break; // the paper's stop: a blank line ends the list
      Matcher m = MARKER.matcher(line);
      Matcher bare = BARE_NUMBER.matcher(line);
      if (m.matches()) {
        items.add(new StringBuilder(m.group(3)));
        expected = Integer.parseInt(m.group(1)) + 1;
      } else if (bare.matches() && bare.group(1).equals(Integer.toString(expected))) {
        items.add(new StringBuilder(bare.group(2)));
        expected++;
      } else if (endsSentence(lines[i - 1]) && Character.isUpperCase(line.strip().charAt(0))) {
        items.add(new StringBuilder(line));
        expected++;
      } else {
        items.get(items.size() - 1).append(' ').append(line);
      }
    }
    boolean cut = finish == TextSampler.Finish.LENGTH && !endsTheList(continuation);
    if (cut) items.remove(items.size() - 1);
    List<String> out = new ArrayList<>();
    for (StringBuilder item : items) {
      String s = collapseWhitespace(item.toString());
      if (!s.isEmpty()) out.add(Character.toUpperCase(s.charAt(0)) + s.substring(1));
    }
    return out;
  }

  private static boolean endsSentence(String line) {
    String s = line.strip();
    return !s.isEmpty() && ".?!".indexOf(s.charAt(s.length() - 1)) >= 0;
  }

  /** The text ended the list itself (a blank line) before running out of tokens. */
  private static boolean endsTheList(String continuation) {
    return continuation.contains("\n\n");
  }

  /** The answer to "Is it classification?": yes, no, or null when it is neither. */
  public static Boolean classification(String continuation) {
    String s = collapseWhitespace(continuation).toLowerCase(Locale.ROOT);
    if (s.startsWith("yes")) return true;
    if (s.startsWith("no")) return false;
    return null;
  }

  private static final Pattern EXAMPLE = Pattern.compile("(?m)^\\s*Example\\s*\\d+\\s*:?\\s*$");
  private static final Pattern OUTPUT = Pattern.compile("Output\\s*\\d*\\s*:");
  private static final Pattern INPUT = Pattern.compile("Input\\s*\\d*\\s*:");
  private static final Pattern LEADING_INPUT = Pattern.compile("^\\s*Input\\s*\\d*\\s*:");

  /**
   * Input-first instances: {@code Example k} blocks (or one block without the header), each {@code
   * Input: … Output: …}, or just {@code Output: …} / bare text for a task with no input. A second
   * {@code Input:} inside an output ends it. With {@code finish} LENGTH the last block may be cut
   * and is dropped; a lone cut block keeps its complete lines (the cut last line goes), and is
   * flagged {@code truncated} when that leaves no output, so the filter counts it as over-long.
   */
  public static List<Parsed> inputFirst(String continuation, TextSampler.Finish finish) {
    List<String> blocks = new ArrayList<>();
    for (String block : EXAMPLE.split(continuation, -1)) if (!block.isBlank()) blocks.add(block);
    List<Parsed> out = new ArrayList<>();
    for (int b = 0; b < blocks.size(); b++) {
      boolean last = b == blocks.size() - 1;
      boolean cut = last && finish == TextSampler.Finish.LENGTH;
      if (cut && blocks.size() > 1) break;
      String block = blocks.get(b);
      String input, output;
      Matcher m = OUTPUT.matcher(block);
      if (m.find()) {
        input = LEADING_INPUT.matcher(block.substring(0, m.start())).replaceFirst("").strip();
        output = block.substring(m.end());
      } else {
        input = "";
        output = block;
      }
      Matcher again = INPUT.matcher(output);
      if (again.find()) output = output.substring(0, again.start());
      else if (cut) output = completeLines(output);
      out.add(new Parsed(input, output.strip(), cut && output.isBlank()));
    }
    return out;
  }

  /** {@code text} without its last line (the one a token limit cut), or "" when it has one line. */
  static String completeLines(String text) {
    String t = text.stripTrailing();
    int nl = t.lastIndexOf('\n');
    return nl < 0 ? "" : t.substring(0, nl);
  }

  private static final Pattern CLASS_LABEL = Pattern.compile("Class\\s*label\\s*:");

  /**
   * Output-first instances: the continuation of a prompt ending in {@code Class label:}, so the
   * text opens with a label; every later {@code Class label:} starts the next pair. In each pair
   * the label is the first line and the rest (an {@code Input:} prefix removed) is the input. A cut
   * last pair is dropped, as for input-first.
   */
  public static List<Parsed> outputFirst(String continuation, TextSampler.Finish finish) {
    String[] pairs = CLASS_LABEL.split(continuation, -1);
    List<Parsed> out = new ArrayList<>();
    for (int p = 0; p < pairs.length; p++) {
      boolean cut = p == pairs.length - 1 && finish == TextSampler.Finish.LENGTH;
      if (cut && pairs.length > 1) break;
      String pair = pairs[p].stripLeading();
      int nl = pair.indexOf('\n');
      String label = (nl < 0 ? pair : pair.substring(0, nl)).strip();
      String input = nl < 0 ? "" : LEADING_INPUT.matcher(pair.substring(nl + 1)).replaceFirst("");
      if (label.isEmpty() && input.isBlank()) continue;
      out.add(new Parsed(input.strip(), label, cut));
    }
    return out;
  }

  /** A parsed instance; {@code truncated}: its text ran into the token limit. */
  public record Parsed(String input, String output, boolean truncated) {}
}
