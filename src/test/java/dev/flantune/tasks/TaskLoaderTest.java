package dev.flantune.tasks;

import static dev.flantune.tasks.Fixtures.ONE_TEMPLATE;
import static dev.flantune.tasks.Fixtures.lines;
import static dev.flantune.tasks.Fixtures.writeTask;
import static dev.flantune.tasks.Fixtures.yaml;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed task files and data lines: one-line errors naming path, line and field; exit code 3.
 */
class TaskLoaderTest {
  @TempDir Path root;

  private String loadError(String yaml, String train) {
    Path dir = writeTask(root, "t", yaml, "train.jsonl", train);
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(dir));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertEquals(3, e.kind().exitCode);
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    return e.getMessage();
  }

  @Test
  void loadsTheFixtureCollection() {
    TaskRegistry reg = TaskRegistry.load(Fixtures.TASKS);
    assertEquals(8, reg.tasks().size());
    Task s = reg.task("tiny_sentiment");
    assertEquals("sentiment", s.cluster());
    assertEquals(Task.Kind.CLASSIFICATION, s.kind());
    assertEquals(List.of("negative", "positive"), s.options());
    assertEquals(4, s.templates().size());
    assertTrue(s.template(3).turned());
    assertEquals(12, s.split(Task.Split.TRAIN).count());
    assertEquals(DataFormat.ALPACA, reg.task("alpaca_demo").format());
    assertEquals(List.of("tiny_nli"), reg.clusters().get("nli").stream().map(Task::name).toList());
  }

  @Test
  void unknownKeyNamesTheKeyAndLine() {
    String m = loadError(yaml("t", "c", ONE_TEMPLATE) + "licence: typo\n", lines(2));
    assertTrue(m.matches(".*task\\.yaml:11: licence: unknown key.*"), m);
    m =
        loadError(
            yaml("t", "c", "  - {input: \"{sentence}\", target: \"{answer}\", turn: true}\n"),
            lines(2));
    assertTrue(m.matches(".*task\\.yaml:10: templates\\[0\\]\\.turn: unknown key.*"), m);
  }

  @Test
  void placeholderNamingAMissingFieldNamesTaskTemplateAndField() {
    String two =
        ONE_TEMPLATE
            + "  - {input: \"{sentence}\\n{hypothesis}\\n{options_}\", target: \"{answer}\"}\n";
    String m = loadError(yaml("t", "c", two), lines(2));
    assertTrue(
        m.contains("train.jsonl:1: missing field 'hypothesis' (used by template 1 of task t)"), m);
  }

  @Test
  void emptyTemplateNamesTaskTemplateAndField() {
    String m =
        loadError(
            yaml("t", "c", ONE_TEMPLATE + "  - {input: \"\", target: \"{answer}\"}\n"), lines(2));
    assertTrue(
        m.matches(
            ".*task\\.yaml:11: templates\\[1\\]\\.input: template 1 of task t: empty template"),
        m);
  }

  @Test
  void answerOutsideTheOptionsNamesLineAndField() {
    // The first line is valid, so the task loads; the bad line fails when the split is read.
    Path dir =
        writeTask(
            root,
            "t",
            yaml("t", "c", ONE_TEMPLATE),
            "train.jsonl",
            lines(2) + "{\"sentence\": \"x\", \"answer\": \"neutral\"}\n");
    List<Example> seen = new ArrayList<>();
    Task task = TaskLoader.load(dir);
    FlanTuneException e =
        assertThrows(
            FlanTuneException.class, () -> task.split(Task.Split.TRAIN).forEach(seen::add));
    assertEquals(2, seen.size());
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertTrue(
        e.getMessage()
            .endsWith(
                "train.jsonl:3: field 'answer' is 'neutral', not one of the options [negative, positive]"),
        e.getMessage());
  }

  @Test
  void badJsonLinesNameFileAndLine() {
    Path dir =
        writeTask(
            root,
            "t",
            yaml("t", "c", ONE_TEMPLATE),
            "train.jsonl",
            lines(1) + "\n{\"sentence\": \"x\", \"answer\": \n" + "[1, 2]\n");
    List<String> errors = new ArrayList<>();
    try {
      TaskLoader.load(dir).split(Task.Split.TRAIN).forEach(e -> {});
    } catch (FlanTuneException e) {
      errors.add(e.getMessage());
    }
    assertTrue(errors.get(0).contains("train.jsonl:3: not valid JSON"), errors.toString());
    Path dir2 = writeTask(root, "u", yaml("u", "c", ONE_TEMPLATE), "train.jsonl", "[1, 2]\n");
    var e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(dir2));
    assertTrue(
        e.getMessage().contains("train.jsonl:1: each line must be one JSON object"),
        e.getMessage());
    Path dir3 =
        writeTask(
            root, "v", yaml("v", "c", ONE_TEMPLATE), "train.jsonl", "{\"sentence\": \"x\"}\n");
    e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(dir3));
    assertTrue(e.getMessage().contains("train.jsonl:1: missing field 'answer'"), e.getMessage());
    Path dir4 =
        writeTask(
            root,
            "w",
            yaml("w", "c", ONE_TEMPLATE),
            "train.jsonl",
            "{\"sentence\": [\"x\"], \"answer\": \"positive\"}\n");
    e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(dir4));
    assertTrue(
        e.getMessage()
            .contains("train.jsonl:1: field 'sentence' must be a string, number or boolean"),
        e.getMessage());
  }

  @Test
  void structuralErrorsInTaskYaml() {
    assertTrue(
        loadError(yaml("other", "c", ONE_TEMPLATE), lines(1))
            .contains("task.yaml:1: name: 'other' must equal the directory name 't'"));
    assertTrue(
        loadError(yaml("t", "Bad Cluster", ONE_TEMPLATE), lines(1))
            .contains("task.yaml:2: cluster:"));
    assertTrue(
        loadError(yaml("t", "c", ONE_TEMPLATE).replace("metric: accuracy", "metric: acc"), lines(1))
            .contains(
                "task.yaml:4: metric: 'acc' is not one of [accuracy, exact_match, f1, bleu, rouge_l]"));
    assertTrue(
        loadError(
                yaml("t", "c", ONE_TEMPLATE).replace("train: train.jsonl", "train: nope.jsonl"),
                lines(1))
            .contains("data: file"));
    assertTrue(
        loadError(yaml("t", "c", "  - {input: \"{sentence}\", target: \"Yes\"}\n"), lines(1))
            .contains(
                "templates[0].target: template 0 must use {answer} in its target, or be marked turned: true"));
    assertTrue(
        loadError(
                yaml("t", "c", "  - {input: \"{sentence}\\n{options_\", target: \"{answer}\"}\n"),
                lines(1))
            .contains("templates[0].input: template 0 of task t: malformed placeholder"));
    assertTrue(
        loadError(yaml("t", "c", ONE_TEMPLATE).replace("[negative, positive]", "[a, a]"), lines(1))
            .contains("options[1]: duplicate option 'a'"));
    assertTrue(loadError("name: [t\n", lines(1)).contains("task.yaml: not valid YAML"));
  }

  @Test
  void perExampleOptionsAreRequiredWithoutFixedOptions() {
    String y = yaml("t", "c", ONE_TEMPLATE).replace("options: [negative, positive]\n", "");
    String m = loadError(y, lines(1));
    assertTrue(m.contains("train.jsonl:1: missing field 'options'"), m);
  }

  @Test
  void importerErrorsNameTheField() {
    String chat =
        "name: t\ncluster: c\nkind: generation\nmetric: rouge_l\nformat: chat\ndata: {train: train.jsonl}\n"
            + "source: s\nlicense: l\n";
    String m = loadError(chat, "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n");
    assertTrue(m.contains("train.jsonl:1: field 'messages[0].role' must be 'assistant'"), m);
    m = loadError(chat.replace("chat", "alpaca"), "{\"instruction\": \"x\"}\n");
    assertTrue(m.contains("train.jsonl:1: missing field 'output'"), m);
  }

  @Test
  void duplicateTaskNamesAreRejected() {
    writeTask(root.resolve("a"), "t", yaml("t", "c", ONE_TEMPLATE), "train.jsonl", lines(1));
    writeTask(root.resolve("b"), "t", yaml("t", "c", ONE_TEMPLATE), "train.jsonl", lines(1));
    var e = assertThrows(FlanTuneException.class, () -> TaskRegistry.load(root));
    assertTrue(e.getMessage().contains("task 't' is also defined in"), e.getMessage());
  }
}
