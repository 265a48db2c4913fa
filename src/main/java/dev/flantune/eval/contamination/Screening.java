package dev.flantune.eval.contamination;

import dev.flantune.report.Contamination;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.Task;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contamination check of one evaluation, run before any model: every held-out example is
 * registered, each source streamed once, and each example marked clean or not. Evaluation then
 * scores the clean examples apart ({@code TaskEvaluator}).
 *
 * @param clean per task, per evaluated example (in evaluation order): no source matched it
 * @param bySource per task, per source name: examples matched
 */
public record Screening(
    int ngram,
    Map<String, boolean[]> clean,
    Map<String, Map<String, Integer>> bySource,
    List<Contamination.Source> sources,
    List<String> notes,
    double seconds,
    long bytes) {
  public static final String TRAINING = "training";
  public static final String PRETRAINING = "pretraining";

  /** Checks {@code examples} (task name → the examples evaluated) against {@code sources}. */
  public static Screening run(
      ContaminationSources sources, Map<String, List<Example>> examples, PrintWriter progress) {
    long t0 = System.nanoTime();
    ContaminationCheck check = new ContaminationCheck(sources.ngram());
    Map<String, int[]> ids = new LinkedHashMap<>();
    examples.forEach(
        (task, list) -> {
          int[] id = new int[list.size()];
          for (int i = 0; i < id.length; i++)
            id[i] = check.add(ContaminationCheck.text(list.get(i)));
          ids.put(task, id);
        });
    List<Contamination.Source> scanned = new ArrayList<>();
    if (!sources.training().isEmpty()) {
      long words = check.scanTasks(TRAINING, sources.training());
      List<String> files = new ArrayList<>();
      for (Task t : sources.training())
        if (t.hasSplit(Task.Split.TRAIN)) files.add(t.data().get(Task.Split.TRAIN).toString());
      scanned.add(new Contamination.Source(TRAINING, sources.trainingOrigin(), files, words));
    }
    if (!sources.pretraining().isEmpty()) {
      long words = check.scanFiles(PRETRAINING, sources.pretraining());
      scanned.add(
          new Contamination.Source(
              PRETRAINING,
              sources.pretrainingOrigin(),
              sources.pretraining().stream().map(Path::toString).toList(),
              words));
    }
    Map<String, boolean[]> clean = new LinkedHashMap<>();
    Map<String, Map<String, Integer>> bySource = new LinkedHashMap<>();
    ids.forEach(
        (task, id) -> {
          boolean[] c = new boolean[id.length];
          Map<String, Integer> counts = new LinkedHashMap<>();
          for (Contamination.Source s : scanned) counts.put(s.name(), 0);
          for (int i = 0; i < id.length; i++) {
            c[i] = true;
            for (Contamination.Source s : scanned) {
              if (check.matched(id[i], s.name())) {
                c[i] = false;
                counts.merge(s.name(), 1, Integer::sum);
              }
            }
          }
          clean.put(task, c);
          bySource.put(task, counts);
        });
    double seconds = (System.nanoTime() - t0) / 1e9;
    long words = scanned.stream().mapToLong(Contamination.Source::words).sum();
    progress.printf(
        "contamination: %d-grams of %d held-out examples against %,d words (%s) in %.1fs%n",
        sources.ngram(),
        ids.values().stream().mapToInt(a -> a.length).sum(),
        words,
        scanned.isEmpty()
            ? "no sources"
            : String.join(", ", scanned.stream().map(Contamination.Source::name).toList()),
        seconds);
    for (String note : sources.notes()) progress.println("contamination: " + note);
    progress.flush();
    return new Screening(
        sources.ngram(), clean, bySource, scanned, sources.notes(), seconds, check.peakBytes());
  }
}
