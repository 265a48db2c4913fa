package dev.flantune.tasks;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One task of a collection, as declared by its {@code task.yaml} (see {@link TaskLoader}). Examples
 * are not held here: they are read lazily from the split files through {@link #split(Split)}, so a
 * collection larger than memory still works.
 *
 * @param options the fixed options of a classification task in the task's order; empty when each
 *     example carries its own {@code options} list, and for generation tasks
 */
public record Task(
    String name,
    String cluster,
    Kind kind,
    Metric metric,
    List<String> options,
    DataFormat format,
    Map<Split, Path> data,
    String source,
    String license,
    List<Template> templates,
    Path yaml) {

  /** Classification tasks are scored by ranking options; generation tasks by a text metric. */
  public enum Kind {
    CLASSIFICATION,
    GENERATION;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** The task's evaluation metric; names as written in {@code task.yaml}. */
  public enum Metric {
    ACCURACY,
    EXACT_MATCH,
    F1,
    BLEU,
    ROUGE_L;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** A data split; {@code train} feeds training and exemplars, {@code validation} evaluation. */
  public enum Split {
    TRAIN,
    VALIDATION;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Split parse(String s) {
      for (Split v : values()) if (v.yamlName().equals(s)) return v;
      throw new IllegalArgumentException(
          "unknown split '" + s + "' (expected train or validation)");
    }
  }

  public Task {
    options = List.copyOf(options);
    data = Map.copyOf(data);
    templates = List.copyOf(templates);
  }

  public boolean hasSplit(Split split) {
    return data.containsKey(split);
  }

  /** The examples of {@code split}, read lazily; the split must exist ({@link #hasSplit}). */
  public SplitSource split(Split split) {
    Path file = data.get(split);
    if (file == null)
      throw new IllegalArgumentException("task " + name + " has no " + split.yamlName() + " split");
    return new SplitSource(this, file);
  }

  public Template template(int index) {
    return templates.get(index);
  }
}
