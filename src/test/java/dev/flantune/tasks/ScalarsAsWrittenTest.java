package dev.flantune.tasks;

import static dev.flantune.tasks.Fixtures.writeTask;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task files are read as written: scalars YAML 1.1 would turn into booleans or numbers are the
 * user's strings wherever a string is expected; run configs keep their typed values.
 */
class ScalarsAsWrittenTest {
  @TempDir Path root;

  private static String task(String name, String options, String templates) {
    return (name == null ? "" : "name: " + name + "\n")
        + "cluster: c\nkind: classification\nmetric: accuracy\n"
        + "options: "
        + options
        + "\ndata: {train: train.jsonl}\nsource: 2024\nlicense: 1.0\ntemplates:\n"
        + templates;
  }

  private static final String TEMPLATE =
      "  - {input: \"{sentence}\\n\\n{options_}\", target: \"{answer}\"}\n";

  @Test
  void yesNoOptionsAreWordsAndRenderAsTyped() {
    Path dir =
        writeTask(
            root,
            "t",
            task("t", "[yes, no]", TEMPLATE),
            "train.jsonl",
            "{\"sentence\": \"Is it?\", \"answer\": \"no\"}\n");
    Task t = TaskLoader.load(dir);
    assertEquals(List.of("yes", "no"), t.options());
    assertEquals("2024", t.source());
    assertEquals("1.0", t.license());
    Example e = t.split(Task.Split.TRAIN).first();
    Rendered r = new Renderer(RenderOptions.DEFAULTS).render(t, e, 0, List.of());
    assertEquals("Is it?\n\nOPTIONS:\n- yes\n- no\n", r.prompt());
    assertEquals("no", r.target());
  }

  @Test
  void everyYaml11ScalarIsTheTextTyped() {
    String opts = "[yes, no, on, off, true, False, 1.0, 007, 1e3, 0x1F, 1_000, .inf, null, 12:30]";
    Path dir =
        writeTask(
            root,
            "t",
            task("t", opts, TEMPLATE + "  - input: yes {sentence}\n    target: 1.50 {answer}\n"),
            "train.jsonl",
            "{\"sentence\": \"s\", \"answer\": \"007\"}\n");
    Task t = TaskLoader.load(dir);
    assertEquals(
        List.of(
            "yes", "no", "on", "off", "true", "False", "1.0", "007", "1e3", "0x1F", "1_000", ".inf",
            "null", "12:30"),
        t.options());
    assertEquals("yes {sentence}", t.template(1).input());
    assertEquals("1.50 {answer}", t.template(1).target());
    assertEquals("007", t.split(Task.Split.TRAIN).first().answer());
  }

  @Test
  void jsonNumbersInDataLinesKeepTheirSourceText() {
    Path dir =
        writeTask(
            root,
            "t",
            task("t", "[1.0, 1e3]", TEMPLATE),
            "train.jsonl",
            "{\"sentence\": 0.50, \"answer\": 1e3}\n{\"sentence\": true, \"answer\": 1.0}\n");
    List<Example> ex = TaskLoader.load(dir).split(Task.Split.TRAIN).first(2);
    assertEquals("0.50", ex.get(0).fields().get("sentence"));
    assertEquals("1e3", ex.get(0).answer());
    assertEquals("true", ex.get(1).fields().get("sentence"));
    assertEquals("1.0", ex.get(1).answer());
  }

  @Test
  void turnedIsStillAFlagAndOtherWordsAreRefused() {
    String turned = TEMPLATE + "  - {input: \"{sentence}\", target: \"Yes\", turned: true}\n";
    Path ok =
        writeTask(
            root,
            "t",
            task("t", "[yes, no]", turned),
            "train.jsonl",
            "{\"sentence\": \"s\", \"answer\": \"yes\"}\n");
    assertTrue(TaskLoader.load(ok).template(1).turned());
    Path bad =
        writeTask(
            root,
            "u",
            task("u", "[yes, no]", turned.replace("turned: true", "turned: yes")),
            "train.jsonl",
            "{\"sentence\": \"s\", \"answer\": \"yes\"}\n");
    var e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(bad));
    assertTrue(
        e.getMessage().endsWith("templates[1].turned: must be true or false"), e.getMessage());
  }

  @Test
  void nameMayBeOmittedAndAMismatchNamesBoth() {
    Path dir =
        writeTask(
            root,
            "my_task",
            task(null, "[yes, no]", TEMPLATE),
            "train.jsonl",
            "{\"sentence\": \"s\", \"answer\": \"yes\"}\n");
    assertEquals("my_task", TaskLoader.load(dir).name());
    Path other =
        writeTask(
            root,
            "dir_name",
            task("yaml_name", "[yes, no]", TEMPLATE),
            "train.jsonl",
            "{\"sentence\": \"s\", \"answer\": \"yes\"}\n");
    var e = assertThrows(FlanTuneException.class, () -> TaskLoader.load(other));
    assertTrue(
        e.getMessage()
            .contains("task.yaml:1: name: 'yaml_name' must equal the directory name 'dir_name'"),
        e.getMessage());
  }

  @Test
  void runConfigsKeepTypedValues() throws Exception {
    Path cfg = root.resolve("run.yaml");
    Files.writeString(
        cfg,
        "init: {tokenizer: "
            + Fixtures.GPT2.toAbsolutePath()
            + ", layers: 1, heads: 1, embd: 8, positions: 16}\n"
            + "data: {tasks: "
            + Fixtures.TASKS.toAbsolutePath()
            + ", packing: no, cap: 007}\n"
            + "train: {lr: 1e-3}\n");
    RunConfig c = ConfigLoader.load(cfg, List.of());
    assertEquals(1e-3, c.train().lr());
    assertEquals(false, c.data().packing());
    assertEquals(7, c.data().cap());
  }
}
