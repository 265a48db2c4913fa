package dev.flantune.cli;

import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code eval} of a model that came from a run: options drawn as the run drew them (unless
 * overridden), and the contamination check against the run's mixture and the base's pretraining
 * text, with clean-subset scores recomputed here from predictions.jsonl.
 */
class EvalTrustTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  /**
   * A run directory (final/ = the score fixture) trained with options_format random on a copy of
   * the fixture collection plus a task that repeats one held-out sentiment example; a base whose
   * provenance names a pretraining text holding a second held-out example.
   */
  private Path setUp() throws IOException {
    Path tasks = dir.resolve("tasks");
    try (Stream<Path> all = Files.walk(EvalCommandTest.TASKS)) {
      for (Path p : all.toList()) {
        Path to = tasks.resolve(EvalCommandTest.TASKS.relativize(p).toString());
        if (Files.isDirectory(p)) Files.createDirectories(to);
        else Files.copy(p, to);
      }
    }
    Path copies = Files.createDirectories(tasks.resolve("copies/tiny_copies"));
    Files.writeString(
        copies.resolve("task.yaml"),
        "cluster: copies\nkind: generation\nmetric: exact_match\n"
            + "data: {train: train.jsonl}\nsource: test\nlicense: CC0-1.0\n"
            + "templates:\n  - {input: \"{sentence}\", target: \"{answer}\"}\n");
    Files.writeString(
        copies.resolve("train.jsonl"),
        "{\"sentence\": \"LOVELY ending -- unicode café!\", \"answer\": \"positive\"}\n"
            + "{\"sentence\": \"Boring!\", \"answer\": \"positive\"}\n");
    Path base = dir.resolve("base");
    assertEquals(0, CliTest.initTiny(base, 64).code());
    Files.writeString(
        dir.resolve("pretrain.txt"),
        "She said: not bad at all, really good in fact. Positive thinking!\n");
    Files.writeString(
        base.resolve("provenance.json"), "{\"pretraining_text\": [\"../pretrain.txt\"]}");
    Path fin = Files.createDirectories(dir.resolve("run/final"));
    try (Stream<Path> files = Files.list(EvalCommandTest.TUNED)) {
      for (Path f : files.toList()) Files.copy(f, fin.resolve(f.getFileName()));
    }
    Files.writeString(
        dir.resolve("run/config.resolved.yaml"),
        "model: "
            + base.toAbsolutePath()
            + "\noutput: "
            + dir.resolve("run").toAbsolutePath()
            + "\ndata: {objective: instruction, tasks: "
            + tasks.toAbsolutePath()
            + ", held_out: [sentiment], options_format: random}\n");
    return fin;
  }

  private CliTest.Run eval(Path model, Path out, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "eval",
                "--held-out",
                "sentiment",
                "--model",
                model.toString(),
                "--tasks",
                dir.resolve("tasks").toString(),
                "--out",
                out.toString()));
    args.addAll(List.of(extra));
    CliTest.Run r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    return r;
  }

  private static List<JsonNode> predictions(Path out) throws IOException {
    List<JsonNode> p = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl")))
      p.add(JSON.readTree(line));
    return p;
  }

  @Test
  void optionsAreDrawnAsTheRunDrewThemUnlessOverridden() throws IOException {
    Path fin = setUp();
    Path out = dir.resolve("eval-run");
    eval(fin, out, "--contamination-ngram", "0");
    JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
    assertEquals("random", report.at("/rendering/options_format").asText());
    assertTrue(
        report.at("/rendering/chosen_by").asText().contains("training run"), report.toString());
    assertTrue(report.get("contamination").isNull());
    long flanBlocks =
        predictions(out).stream()
            .filter(p -> p.get("prompt").asText().contains("OPTIONS:\n- negative"))
            .count();
    assertTrue(flanBlocks < predictions(out).size(), "random formats draw other headers too");
    assertTrue(Files.readString(out.resolve("report.md")).contains("Options rendered as `random`"));

    Path flan = dir.resolve("eval-flan");
    eval(fin, flan, "--options-format", "flan", "--contamination-ngram", "0");
    for (JsonNode p : predictions(flan))
      assertTrue(
          p.get("prompt").asText().contains("OPTIONS:\n- negative\n- positive"), p.toString());
    assertEquals(
        "--options-format",
        JSON.readTree(flan.resolve("report.json").toFile()).at("/rendering/chosen_by").asText());
    CliTest.Run bad =
        run(
            "eval",
            "--held-out",
            "sentiment",
            "--model",
            fin.toString(),
            "--tasks",
            dir.resolve("tasks").toString(),
            "--options-format",
            "fancy");
    assertEquals(2, bad.code(), bad.err());
  }

  @Test
  void contaminatedExamplesAreCountedAndTheCleanSubsetScoredApart() throws IOException {
    Path fin = setUp();
    Path out = dir.resolve("eval");
    CliTest.Run r = eval(fin, out, "--options-format", "flan");
    JsonNode c = JSON.readTree(out.resolve("report.json").toFile()).get("contamination");
    assertEquals(13, c.get("ngram").asInt());
    JsonNode t = c.at("/tasks/tiny_sentiment");
    // Example 0 repeats in tiny_copies' train split, example 2 in the pretraining text;
    // example 1 ("Boring." negative) differs from "Boring!" positive in its answer: clean.
    assertEquals(3, t.get("examples").asInt());
    assertEquals(2, t.get("contaminated").asInt());
    assertEquals(1, t.at("/by_source/training").asInt());
    assertEquals(1, t.at("/by_source/pretraining").asInt());
    // The clean score is the mean over templates of example 1's correctness.
    List<JsonNode> preds = predictions(out);
    double sum = 0;
    int templates = 0;
    for (JsonNode p : preds) {
      if (p.get("index").asInt() != 1) continue;
      templates++;
      sum += p.get("prediction").asText().equals(p.get("answer").asText()) ? 100 : 0;
    }
    assertEquals(3, templates);
    assertEquals(sum / templates, t.at("/tuned/clean").asDouble(), 1e-9);
    assertEquals(
        t.at("/tuned/clean").asDouble() - t.at("/tuned/full").asDouble(),
        t.at("/tuned/delta_clean_minus_full").asDouble(),
        1e-9);
    JsonNode sources = c.get("sources");
    assertEquals("training", sources.get(0).get("name").asText());
    assertTrue(sources.get(0).get("files").toString().contains("tiny_copies"));
    assertTrue(!sources.get(0).get("files").toString().contains("tiny_sentiment"), "held out");
    assertEquals("pretraining", sources.get(1).get("name").asText());
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(
        md.contains("## Contamination")
            && md.contains("| tiny_sentiment | 3 | 2 (66.7%) | 1 | 1 |"),
        md);
    assertTrue(r.out().contains("contamination (word 13-grams"), r.out());
    assertTrue(Files.readString(out.resolve("report.html")).contains("Δ clean−full"));
  }
}
