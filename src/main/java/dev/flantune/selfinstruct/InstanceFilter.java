package dev.flantune.selfinstruct;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Filters the instances generated for one instruction: empty outputs, over-long outputs (longer
 * than {@link #MAX_OUTPUT_CHARS}, or cut by the token limit), outputs that only repeat the input,
 * exact duplicates (the later copy goes), and non-empty inputs that were given different outputs
 * (every instance with that input goes: which output is right cannot be told). Without an input,
 * different outputs are fine: "Name three fruits" has many answers.
 */
public final class InstanceFilter {
  public static final int MAX_OUTPUT_CHARS = 1000;

  private InstanceFilter() {}

  /** The instances that pass, in order; {@code rejected} hears one reason per dropped instance. */
  public static List<SeedTask.Instance> filter(
      List<Parsers.Parsed> parsed, Consumer<Rejection> rejected) {
    Map<String, List<SeedTask.Instance>> byInput = new LinkedHashMap<>();
    for (Parsers.Parsed p : parsed) {
      String input = p.input().strip(), output = p.output().strip();
      if (output.isEmpty()) {
        rejected.accept(Rejection.EMPTY_OUTPUT);
      } else if (p.truncated() || output.length() > MAX_OUTPUT_CHARS) {
        rejected.accept(Rejection.OUTPUT_TOO_LONG);
      } else if (!input.isEmpty()
          && Parsers.collapseWhitespace(input).equals(Parsers.collapseWhitespace(output))) {
        rejected.accept(Rejection.OUTPUT_REPEATS_INPUT);
      } else {
        List<SeedTask.Instance> same = byInput.computeIfAbsent(key(input), k -> new ArrayList<>());
        SeedTask.Instance inst = new SeedTask.Instance(input, output);
        if (same.stream().anyMatch(o -> key(o.output()).equals(key(output)))) {
          rejected.accept(Rejection.DUPLICATE_INSTANCE);
        } else {
          same.add(inst);
        }
      }
    }
    List<SeedTask.Instance> out = new ArrayList<>();
    for (List<SeedTask.Instance> same : byInput.values()) {
      if (same.size() == 1 || same.get(0).input().isEmpty()) {
        out.addAll(same);
      } else {
        for (int i = 0; i < same.size(); i++)
          rejected.accept(Rejection.SAME_INPUT_DIFFERENT_OUTPUTS);
      }
    }
    return out;
  }

  private static String key(String s) {
    return Parsers.collapseWhitespace(s);
  }
}
