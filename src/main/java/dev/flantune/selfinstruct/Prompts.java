package dev.flantune.selfinstruct;

import java.util.List;

/**
 * The prompts of the three generation stages, in the formats of the Self-Instruct paper. The
 * few-shot demonstrations are short (written for this project) so that the prompts fit the
 * 256-token context of small models; the layout is the paper's.
 */
public final class Prompts {
  private Prompts() {}

  /** The stop strings of instruction generation: a blank line ends the list, as in the paper. */
  public static final List<String> INSTRUCTION_STOPS = List.of("\n\n", "\n16", "16.", "16 .");

  public static final List<String> CLASSIFICATION_STOPS = List.of("\n");
  public static final List<String> INSTANCE_STOPS = List.of("Task:", "\n\n");

  /**
   * The paper's numbered list: "Come up with a series of tasks:", then {@code 1.} … {@code k.} with
   * one instruction each (whitespace collapsed, trailing colon dropped), then {@code k+1.} for the
   * model to continue.
   */
  public static String instructionGeneration(List<String> inContext) {
    StringBuilder sb = new StringBuilder("Come up with a series of tasks:\n");
    int i = 1;
    for (String instruction : inContext) {
      String one = Parsers.collapseWhitespace(instruction);
      while (one.endsWith(":")) one = one.substring(0, one.length() - 1).strip();
      sb.append(i++).append(". ").append(one).append('\n');
    }
    return sb.append(i).append('.').toString();
  }

  private static final String CLASSIFICATION_DEMOS =
      """
      Can the following task be regarded as a classification task with finite output labels?

      Task: Given a product review, tell whether it is positive or negative.
      Is it classification? Yes

      Task: Write a short poem about the sea.
      Is it classification? No

      Task: Decide whether the two sentences mean the same thing.
      Is it classification? Yes

      Task: Explain how a bicycle works to a child.
      Is it classification? No

      """;

  /** Few-shot "Is it classification?" (answered greedily with Yes or No). */
  public static String classification(String instruction) {
    return CLASSIFICATION_DEMOS
        + "Task: "
        + Parsers.collapseWhitespace(instruction)
        + "\nIs it classification?";
  }

  private static final String INPUT_FIRST_DEMOS =
      """
      Come up with examples for the following tasks. Try to generate multiple examples when \
      possible. If the task doesn't require additional input, you can generate the output directly.

      Task: Name three fruits that are yellow.
      Output: banana, lemon, pineapple

      Task: Translate the sentence into French.
      Example 1
      Input: Good morning.
      Output: Bonjour.
      Example 2
      Input: Thank you very much.
      Output: Merci beaucoup.

      """;

  /** Input-first instance generation (generation tasks): input, then the output for it. */
  public static String inputFirst(String instruction) {
    return INPUT_FIRST_DEMOS + "Task: " + Parsers.collapseWhitespace(instruction) + "\n";
  }

  private static final String OUTPUT_FIRST_DEMOS =
      """
      Given the classification task definition and the class labels, generate an input that \
      corresponds to each of the class labels. If the task doesn't require input, just generate \
      the correct class label.

      Task: Classify the sentiment of the sentence as positive or negative.
      Class label: Positive
      Input: I loved every minute of this film.
      Class label: Negative
      Input: The food was cold and the waiter was rude.

      Task: Is the number even or odd?
      Class label: Even
      Input: 14
      Class label: Odd
      Input: 7

      """;

  /**
   * Output-first instance generation (classification tasks): a class label, then an input of that
   * class, so that the labels do not all collapse onto the class the model likes best.
   */
  public static String outputFirst(String instruction) {
    return OUTPUT_FIRST_DEMOS
        + "Task: "
        + Parsers.collapseWhitespace(instruction)
        + "\nClass label:";
  }
}
