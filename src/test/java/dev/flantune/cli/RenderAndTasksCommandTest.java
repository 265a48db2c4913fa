package dev.flantune.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flantune.tasks.Fixtures;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.Jsonl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The render and tasks commands end to end: output contracts and exit codes. */
class RenderAndTasksCommandTest {
  private String out;
  private String err;

  private int run(String... args) {
    StringWriter o = new StringWriter();
    StringWriter e = new StringWriter();
    int code = FlanTune.run(args, new PrintWriter(o, true), new PrintWriter(e, true));
    out = o.toString();
    err = e.toString();
    return code;
  }

  private static final String TASKS = Fixtures.TASKS.toString();
  private static final String TOK = Fixtures.GPT2.toString();

  @Test
  void renderJsonlHasTheContractFieldsWithInputAlignedMasks() throws Exception {
    assertEquals(
        0,
        run(
            "render",
            "--tasks",
            TASKS,
            "--tokenizer",
            TOK,
            "--format",
            "jsonl",
            "--limit",
            "2",
            "--split",
            "validation"),
        err);
    List<String> lines = out.lines().toList();
    assertEquals(
        8, lines.size(), out); // 2 validation examples from each of the four tasks with that split
    try (Tokenizer tok = Tokenizer.load(Fixtures.GPT2)) {
      for (String line : lines) {
        JsonNode o = Jsonl.JSON.readTree(line);
        for (String f :
            List.of("task", "cluster", "template", "prompt", "target", "input_ids", "loss_mask")) {
          assertTrue(o.has(f), f + " in " + line);
        }
        JsonNode ids = o.get("input_ids");
        JsonNode mask = o.get("loss_mask");
        assertEquals(ids.size(), mask.size());
        int[] target =
            java.util.stream.IntStream.range(0, ids.size())
                .filter(i -> mask.get(i).asInt() == 1)
                .map(i -> ids.get(i).asInt())
                .toArray();
        assertEquals(o.get("target").asText() + "<|endoftext|>", tok.decode(target));
        assertEquals(tok.eosId(), ids.get(ids.size() - 1).asInt());
      }
    }
    assertTrue(err.contains("render: 8 examples: 0 truncated"), err);
  }

  @Test
  void renderTextMarksTheLossCarryingPart() {
    assertEquals(
        0,
        run(
            "render",
            "--tasks",
            TASKS,
            "--tokenizer",
            TOK,
            "--task",
            "tiny_sentiment",
            "--limit",
            "1",
            "--all-templates",
            "--shots",
            "1",
            "--max-length",
            "40"),
        err);
    assertTrue(out.contains("### tiny_sentiment · sentiment · template 3 (turned) · 1-shot"), out);
    assertTrue(out.contains("⟦positive<|endoftext|>⟧"), out);
    assertTrue(out.contains("prompt tokens truncated from the start"), out);
    assertTrue(err.matches("(?s).*render: 4 examples: [1-9] truncated.*"), err);
  }

  @Test
  void configSuppliesTasksTokenizerAndLength(@TempDir Path dir) throws java.io.IOException {
    Path cfg = dir.resolve("run.yaml");
    java.nio.file.Files.writeString(
        cfg,
        "init: {tokenizer: "
            + Path.of(TOK).toAbsolutePath()
            + ", layers: 1, heads: 2, embd: 16, positions: 64}\n"
            + "data: {objective: instruction, tasks: "
            + Path.of(TASKS).toAbsolutePath()
            + ", max_length: 40}\n");
    assertEquals(
        0,
        run(
            "render",
            "--config",
            cfg.toString(),
            "--task",
            "tiny_sentiment",
            "--limit",
            "1",
            "--format",
            "jsonl"),
        err);
    assertTrue(out.contains("\"task\":\"tiny_sentiment\""), out);
    assertEquals(2, run("render", "--config", dir.resolve("missing.yaml").toString()));
    assertTrue(err.contains("config file not found"), err);
    assertEquals(2, run("render", "--tasks", TASKS));
    assertEquals(2, run("render", "--tasks", TASKS, "--tokenizer", TOK, "--split", "test"));
    assertTrue(err.contains("--split: unknown split 'test'"), err);
  }

  @Test
  void malformedTaskFilesExitThreeWithOneLine(@TempDir Path root) {
    Fixtures.writeTask(
        root,
        "t",
        Fixtures.yaml("t", "c", Fixtures.ONE_TEMPLATE),
        "train.jsonl",
        "{\"sentence\": \"x\"}\n");
    assertEquals(3, run("render", "--tasks", root.toString(), "--tokenizer", TOK));
    assertEquals(1, err.lines().count(), err);
    assertTrue(err.contains("train.jsonl:1: missing field 'answer'"), err);
    assertEquals(3, run("tasks", "--tasks", root.resolve("nope").toString()));
  }

  @Test
  void tasksJsonListsEveryTaskWithCountsAndClusters() throws Exception {
    assertEquals(0, run("tasks", "--tasks", TASKS, "--format", "json"), err);
    JsonNode root = Jsonl.JSON.readTree(out);
    assertEquals(8, root.get("tasks").size());
    JsonNode s = null;
    for (JsonNode t : root.get("tasks")) if (t.get("name").asText().equals("tiny_sentiment")) s = t;
    assertEquals(
        Set.of("name", "cluster", "kind", "metric", "templates", "examples", "source", "license"),
        Set.copyOf(iterable(s.fieldNames())));
    assertEquals("classification", s.get("kind").asText());
    assertEquals(4, s.get("templates").asInt());
    assertEquals(12, s.get("examples").get("train").asInt());
    assertEquals(3, s.get("examples").get("validation").asInt());
    assertEquals("tiny_nli", root.get("clusters").get("nli").get(0).asText());
    assertEquals(0, run("tasks", "--tasks", TASKS));
    assertTrue(out.contains("8 tasks in 7 clusters; 35 train and 10 validation examples"), out);
  }

  private static List<String> iterable(java.util.Iterator<String> it) {
    List<String> out = new java.util.ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
