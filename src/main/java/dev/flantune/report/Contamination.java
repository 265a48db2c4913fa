package dev.flantune.report;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contamination check's part of a report (FLAN §C / GPT-3 §4): how many held-out examples share
 * word n-grams with the text the models were trained on, and the score on the clean rest.
 *
 * @param ngram n, the gram length in words
 * @param sources what was searched, in order (the run's training mixture, the base's pretraining
 *     text), with their sizes
 * @param seconds wall time of the check (reading every source included)
 * @param bytes memory held by the check's hash sets at their largest
 * @param tasks per held-out task, by name
 */
public record Contamination(
    int ngram,
    List<Source> sources,
    List<String> notes,
    double seconds,
    long bytes,
    Map<String, TaskContamination> tasks) {

  /** The rule, stated once for every renderer. */
  public static final String RULE =
      "an example (its input fields in name order, then its answer, lowercased and split into"
          + " words) is contaminated when any"
          + " run of min(n, its length) consecutive words also occurs in a source";

  public Contamination {
    sources = List.copyOf(sources);
    notes = List.copyOf(notes);
    tasks = new LinkedHashMap<>(tasks);
  }

  /**
   * One searched source.
   *
   * @param name {@code training} or {@code pretraining}
   * @param origin where the source was found (the run config, the base's provenance)
   * @param files the files read (task train splits, text files)
   * @param words words streamed
   */
  public record Source(String name, String origin, List<String> files, long words) {
    public Source {
      files = List.copyOf(files);
    }
  }

  /**
   * One task's contamination.
   *
   * @param examples held-out examples checked (those evaluated)
   * @param contaminated examples matched by any source
   * @param bySource examples matched, per source name
   * @param full each model's score on all examples (mean over templates)
   * @param clean each model's score on the clean examples only (mean over templates; NaN if none)
   */
  public record TaskContamination(
      int examples,
      int contaminated,
      Map<String, Integer> bySource,
      Map<String, Double> full,
      Map<String, Double> clean) {
    public TaskContamination {
      bySource = new LinkedHashMap<>(bySource);
      full = new LinkedHashMap<>(full);
      clean = new LinkedHashMap<>(clean);
    }

    public double fraction() {
      return examples == 0 ? Double.NaN : (double) contaminated / examples;
    }

    /** Clean minus full for {@code model}: how much the contaminated examples moved the score. */
    public double delta(String model) {
      Double c = clean.get(model), f = full.get(model);
      return c == null || f == null ? Double.NaN : c - f;
    }
  }
}
