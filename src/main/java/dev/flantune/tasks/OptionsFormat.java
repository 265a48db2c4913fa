package dev.flantune.tasks;

import java.util.List;

/**
 * How {@code {options_}} is drawn: a header line, then one line per option in the task's order,
 * with no trailing newline. The default is exactly FLAN 2021's block, {@code OPTIONS:\n- a\n- b}.
 *
 * @param header the first line, e.g. {@code OPTIONS:}
 * @param item one option's line: {@code {option}} is the option text; {@code {letter}}, {@code
 *     {LETTER}} and {@code {number}} its 1-based position as a, A or 1
 */
public record OptionsFormat(String header, String item) {

  /** FLAN 2021's block, the default everywhere. */
  public static final OptionsFormat FLAN = new OptionsFormat("OPTIONS:", "- {option}");

  /**
   * Variants in the spirit of the Flan Collection, which randomizes the options header and markers
   * so the model does not overfit one layout. Opt-in through {@link Policy#randomAmong}.
   */
  public static final List<OptionsFormat> FLAN_COLLECTION =
      List.of(
          FLAN,
          new OptionsFormat("Options:", "- {option}"),
          new OptionsFormat("Choose your answer from:", " ({letter}). {option}"),
          new OptionsFormat("Pick your answer from:", "- {option}"),
          new OptionsFormat("Available choices:", " {number}). {option}"),
          new OptionsFormat("Select from the following.", " +{option}"),
          new OptionsFormat("Possible answers:", " ({LETTER}) {option}"),
          new OptionsFormat("Choose from:", " * {option}"),
          new OptionsFormat("Answer options:", " [{letter}] {option}"),
          new OptionsFormat("Pick from:", " {LETTER}. {option}"));

  public OptionsFormat {
    if (header == null || header.isBlank())
      throw new IllegalArgumentException("options header is empty");
    if (item == null || !item.contains("{option}")) {
      throw new IllegalArgumentException("options item '" + item + "' must contain {option}");
    }
  }

  public String render(List<String> options) {
    StringBuilder sb = new StringBuilder(header);
    for (int i = 0; i < options.size(); i++) {
      sb.append('\n')
          .append(
              item.replace("{letter}", String.valueOf((char) ('a' + i % 26)))
                  .replace("{LETTER}", String.valueOf((char) ('A' + i % 26)))
                  .replace("{number}", String.valueOf(i + 1))
                  .replace("{option}", options.get(i)));
    }
    return sb.toString();
  }

  /**
   * Which format an example gets: always one, or one of several chosen by a hash of the example's
   * identity (not by call order), so the choice is reproducible however the data is traversed.
   */
  public record Policy(List<OptionsFormat> formats) {
    public static final Policy FLAN_ONLY = new Policy(List.of(FLAN));

    public Policy {
      formats = List.copyOf(formats);
      if (formats.isEmpty()) throw new IllegalArgumentException("no options format given");
    }

    public static Policy randomAmong(List<OptionsFormat> formats) {
      return new Policy(formats);
    }

    public OptionsFormat choose(long key) {
      return formats.size() == 1
          ? formats.get(0)
          : formats.get((int) Math.floorMod(key, (long) formats.size()));
    }
  }
}
