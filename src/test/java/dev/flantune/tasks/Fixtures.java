package dev.flantune.tasks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Shared test fixtures: the tiny task collection, the GPT-2 tokenizer, and task-writing helpers.
 */
public final class Fixtures {
  private Fixtures() {}

  /**
   * A small hand-written collection: 8 tasks, 7 clusters, fixed and per-example options, importers.
   */
  public static final Path TASKS = Path.of("src/test/resources/tasks");

  /** The shipped GPT-2 tokenizer (tests run with the project root as working directory). */
  public static final Path GPT2 = Path.of("data/tokenizers/gpt2/tokenizer.json");

  /** The shipped task collection, which may not exist yet on every branch. */
  public static final Path SHIPPED_TASKS = Path.of("data/tasks");

  /**
   * Writes {@code root/name/task.yaml} and the given split files ({@code name, contents} pairs).
   */
  public static Path writeTask(Path root, String name, String yaml, String... files) {
    try {
      Path dir = Files.createDirectories(root.resolve(name));
      Files.writeString(dir.resolve("task.yaml"), yaml);
      for (int i = 0; i < files.length; i += 2)
        Files.writeString(dir.resolve(files[i]), files[i + 1]);
      return dir;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A valid classification task.yaml with one template; tests break one thing at a time. */
  public static String yaml(String name, String cluster, String templates) {
    return "name: "
        + name
        + "\n"
        + "cluster: "
        + cluster
        + "\n"
        + "kind: classification\n"
        + "metric: accuracy\n"
        + "options: [negative, positive]\n"
        + "data: {train: train.jsonl}\n"
        + "source: test\n"
        + "license: CC0-1.0\n"
        + "templates:\n"
        + templates;
  }

  public static final String ONE_TEMPLATE =
      "  - {input: \"{sentence}\\n\\n{options_}\", target: \"{answer}\"}\n";

  /** n JSONL lines {"sentence": "s<i>", "answer": positive|negative}. */
  public static String lines(int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append("{\"sentence\": \"s")
          .append(i)
          .append("\", \"answer\": \"")
          .append(i % 2 == 0 ? "positive" : "negative")
          .append("\"}\n");
    }
    return sb.toString();
  }
}
