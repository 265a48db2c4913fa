package dev.flantune.eval;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.data.Mixture;
import dev.flantune.tasks.ClusterOverlaps;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The training run a model came from, read from its resolved config: what evaluation should copy
 * from training (the options format) and what it should check for contamination (the task mixture,
 * or the pretraining text). A model is a run's when the run directory's {@code
 * config.resolved.yaml} sits next to it: {@code run/final/}, {@code run/checkpoints/step-N/}, or
 * the run directory itself.
 */
public record TrainingRun(Path config, RunConfig cfg) {
  public static final String RESOLVED_CONFIG = "config.resolved.yaml";

  /** The resolved config of the run that wrote {@code modelDir}, if it was written by a run. */
  public static Optional<Path> configOf(Path modelDir) {
    if (modelDir == null) return Optional.empty();
    Path dir = modelDir.toAbsolutePath().normalize();
    for (int up = 0; up < 3 && dir != null; up++, dir = dir.getParent()) {
      Path c = dir.resolve(RESOLVED_CONFIG);
      if (Files.isRegularFile(c)) return Optional.of(c);
    }
    return Optional.empty();
  }

  /** Loads a run config (a run's resolved config, or a config given with --train-config). */
  public static TrainingRun load(Path config) {
    return new TrainingRun(config, ConfigLoader.load(config, List.of()));
  }

  /** Evaluation's options format: the one training rendered with. */
  public RunConfig.OptionsFormat optionsFormat() {
    return cfg.data().optionsFormat();
  }

  /** Evaluation's prompt format: the one training rendered with. */
  public RunConfig.PromptFormat promptFormat() {
    return cfg.data().promptFormat();
  }

  /**
   * The tasks the run trained on: the collection's tasks minus the held-out clusters and those
   * excluded with them, and minus tasks weighted 0 (as {@link Mixture} plans it). Empty for a
   * plain-text (causal_lm) run.
   */
  public List<Task> mixtureTasks() {
    RunConfig.DataConfig d = cfg.data();
    if (d.objective() != RunConfig.Objective.INSTRUCTION || d.tasks() == null) return List.of();
    Set<String> heldOut = new TreeSet<>(d.heldOut());
    List<Task> out = new ArrayList<>();
    Mixture.plan(
            TaskRegistry.load(d.tasks()),
            new Mixture.Config(d.cap(), d.weights(), heldOut, overlaps(d), cfg.seed()))
        .entries()
        .forEach(e -> out.add(e.task()));
    return out;
  }

  /** The text files of a plain-text (causal_lm) run: its pretraining text. */
  public List<Path> textFiles() {
    return cfg.data().objective() == RunConfig.Objective.CAUSAL_LM
        ? cfg.data().text().train()
        : List.of();
  }

  /** The config's overlap map as pairs; FLAN's pairs when the config gives none (as training). */
  static ClusterOverlaps overlaps(RunConfig.DataConfig d) {
    if (d.overlapping().isEmpty()) return ClusterOverlaps.flanDefault();
    List<List<String>> pairs = new ArrayList<>();
    d.overlapping().forEach((c, with) -> with.forEach(w -> pairs.add(List.of(c, w))));
    return new ClusterOverlaps(pairs);
  }
}
