package dev.flantune.eval.contamination;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flantune.eval.TrainingRun;
import dev.flantune.tasks.Task;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a held-out evaluation is checked against: the training mixture of the run that produced the
 * tuned model, and the pretraining text of its base. Either may be missing (a downloaded model has
 * no run); {@code notes} say what was not found, so the report never claims a check it did not
 * make.
 *
 * @param ngram gram length in words (13 by default)
 * @param training the mixture's tasks (their train splits are read)
 * @param pretraining text files the base was pretrained on
 */
public record ContaminationSources(
    int ngram,
    List<Task> training,
    String trainingOrigin,
    List<Path> pretraining,
    String pretrainingOrigin,
    List<String> notes) {
  public static final int DEFAULT_NGRAM = 13;

  /** Key in a checkpoint's {@code provenance.json}: its pretraining text, relative to it. */
  public static final String PROVENANCE_KEY = "pretraining_text";

  public ContaminationSources {
    training = List.copyOf(training);
    pretraining = List.copyOf(pretraining);
    notes = List.copyOf(notes);
  }

  /**
   * Sources for a tuned model trained by {@code run} (may be null: none known) from {@code base}
   * (may be null).
   */
  public static ContaminationSources of(int ngram, TrainingRun run, Path base) {
    List<String> notes = new ArrayList<>();
    List<Task> training = List.of();
    String trainingOrigin = null;
    if (run == null) {
      notes.add(
          "training mixture not checked: the tuned model has no run directory (pass --train-config)");
    } else {
      training = run.mixtureTasks();
      trainingOrigin = run.config().toString();
      if (training.isEmpty()) {
        // A plain-text run: its text is what the tuned model was trained on.
        notes.add(run.config() + " trains on plain text, no task mixture");
      }
    }
    List<Path> pretraining = new ArrayList<>();
    String pretrainingOrigin = null;
    Optional<Pretraining> p = base == null ? Optional.empty() : pretrainingOf(base);
    if (run != null && !run.textFiles().isEmpty()) {
      pretraining.addAll(run.textFiles());
      pretrainingOrigin = run.config().toString();
    } else if (p.isPresent()) {
      pretrainingOrigin = p.get().origin;
      for (Path f : p.get().files) {
        if (Files.isRegularFile(f)) pretraining.add(f);
        else notes.add("pretraining text " + f + " (named in " + p.get().origin + ") not found");
      }
    } else {
      notes.add(
          "pretraining text not checked: "
              + (base == null ? "no base model" : base + " names none in its provenance"));
    }
    return new ContaminationSources(
        ngram, training, trainingOrigin, pretraining, pretrainingOrigin, notes);
  }

  private record Pretraining(String origin, List<Path> files) {}

  /**
   * The base's pretraining text: {@code pretraining_text} in its {@code provenance.json} (paths
   * relative to the checkpoint), else the text files of the plain-text run it came from.
   */
  private static Optional<Pretraining> pretrainingOf(Path base) {
    Path prov = base.resolve("provenance.json");
    if (Files.isRegularFile(prov)) {
      JsonNode root;
      try {
        root = Jsonl.JSON.readTree(prov.toFile());
      } catch (IOException e) {
        throw FlanTuneException.badInput(prov + ": not valid JSON (" + e.getMessage() + ")", e);
      }
      JsonNode list = root.path(PROVENANCE_KEY);
      if (list.isArray() && !list.isEmpty()) {
        List<Path> files = new ArrayList<>();
        for (JsonNode f : list) {
          if (!f.isTextual())
            throw FlanTuneException.badInput(prov + ": " + PROVENANCE_KEY + " must list paths");
          files.add(base.resolve(f.textValue()).normalize());
        }
        return Optional.of(new Pretraining(prov.toString(), files));
      }
    }
    Optional<Path> cfg = TrainingRun.configOf(base);
    if (cfg.isPresent()) {
      try {
        List<Path> files = TrainingRun.load(cfg.get()).textFiles();
        if (!files.isEmpty()) return Optional.of(new Pretraining(cfg.get().toString(), files));
      } catch (FlanTuneException e) {
        return Optional.empty(); // an unreadable old config: report the text as not found
      }
    }
    return Optional.empty();
  }
}
