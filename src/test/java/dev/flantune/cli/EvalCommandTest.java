package dev.flantune.cli;

import static dev.flantune.cli.CliTest.assertOneLineError;
import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flan-tune eval} end to end on tiny models and the fixture collection: a classification
 * cluster (with a turned template) and a generation cluster, tuned against base. The report's
 * numbers are recomputed from predictions.jsonl, so the two files cannot disagree.
 */
class EvalCommandTest {
  static final Path TUNED = Path.of("src/test/resources/score/model");
  static final Path TASKS = Path.of("src/test/resources/tasks");
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** A run directory whose final/ is the score fixture, with a loss curve beside it. */
  private Path tunedRun() throws IOException {
    Path fin = Files.createDirectories(dir.resolve("run/final"));
    try (Stream<Path> files = Files.list(TUNED)) {
      for (Path f : files.toList()) Files.copy(f, fin.resolve(f.getFileName()));
    }
    Files.writeString(
        dir.resolve("run/metrics.jsonl"),
        "{\"step\":1,\"loss\":5.0}\n{\"step\":2,\"loss\":4.0,\"val_loss\":4.5}\n{\"step\":3,\"loss\":3.5}\n");
    return fin;
  }

  private Path base() {
    Path base = dir.resolve("base");
    CliTest.Run r = CliTest.initTiny(base, 64, "--seed", "3");
    assertEquals(0, r.code(), r.err());
    return base;
  }

  @Test
  void evaluatesTunedAgainstBaseAndTheReportAgreesWithThePredictions() throws IOException {
    Path out = dir.resolve("eval");
    CliTest.Run r =
        run(
            "eval",
            "--held-out",
            "sentiment,closed_book_qa",
            "--model",
            tunedRun().toString(),
            "--base",
            base().toString(),
            "--tasks",
            TASKS.toString(),
            "--out",
            out.toString(),
            "--max-examples",
            "3");
    assertEquals(0, r.code(), r.err());
    assertTrue(
        r.out().contains("tiny_sentiment") && r.out().contains("tiny_qa") && r.out().contains("Δ"),
        r.out());

    // predictions.jsonl: every field, options in the task's order, prediction = argmax.
    List<JsonNode> predictions = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("predictions.jsonl")))
      predictions.add(JSON.readTree(line));
    // 2 models × (tiny_sentiment: 3 rankable templates + tiny_qa: 3 templates) × 3 examples
    assertEquals(2 * (3 + 3) * 3, predictions.size());
    Map<String, List<JsonNode>> byGroup = new HashMap<>();
    for (JsonNode p : predictions) {
      for (String f :
          List.of("model", "task", "template", "index", "prompt", "prediction", "answer")) {
        assertTrue(p.has(f), f + " in " + p);
      }
      if (p.get("task").asText().equals("tiny_sentiment")) {
        assertEquals(List.of("negative", "positive"), strings(p.get("options")));
        assertEquals(2, p.get("options_logprob").size());
        int best =
            p.get("options_logprob").get(0).asDouble() >= p.get("options_logprob").get(1).asDouble()
                ? 0
                : 1;
        assertEquals(p.get("options").get(best).asText(), p.get("prediction").asText());
        assertNotEquals(3, p.get("template").asInt(), "the turned template is not ranked");
      } else {
        assertFalse(p.has("options_logprob"));
      }
      byGroup
          .computeIfAbsent(
              p.get("model").asText()
                  + "/"
                  + p.get("task").asText()
                  + "/"
                  + p.get("template").asInt(),
              k -> new ArrayList<>())
          .add(p);
    }

    // report.json: each per-template score recomputed from the predictions; mean/std/min/max from
    // those.
    JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
    assertEquals(List.of("tuned", "base"), strings(report.get("models")));
    assertEquals(
        List.of("sentiment", "closed_book_qa"), report.get("clusters").findValuesAsText("name"));
    for (JsonNode cluster : report.get("clusters")) {
      for (JsonNode task : cluster.get("tasks")) {
        assertEquals(3, task.get("n_examples").asInt());
        for (String model : List.of("tuned", "base")) {
          JsonNode m = task.get(model);
          List<Double> scores = new ArrayList<>();
          for (JsonNode t : m.get("per_template")) {
            List<JsonNode> preds =
                byGroup.get(
                    model + "/" + task.get("task").asText() + "/" + t.get("template").asInt());
            double recomputed = 0;
            for (JsonNode p : preds) {
              recomputed +=
                  task.get("kind").asText().equals("classification")
                      ? (p.get("prediction").asText().equals(p.get("answer").asText()) ? 1 : 0)
                      : p.get("score").asDouble();
            }
            recomputed = 100 * recomputed / preds.size();
            assertEquals(
                recomputed,
                t.get("score").asDouble(),
                1e-9,
                model + " " + task.get("task") + " " + t);
            scores.add(t.get("score").asDouble());
          }
          double mean = scores.stream().mapToDouble(x -> x).average().orElseThrow();
          double var =
              scores.stream().mapToDouble(x -> (x - mean) * (x - mean)).sum() / scores.size();
          assertEquals(mean, m.get("mean").asDouble(), 1e-9);
          assertEquals(Math.sqrt(var), m.get("std").asDouble(), 1e-9);
          assertEquals(
              scores.stream().mapToDouble(x -> x).min().orElseThrow(),
              m.get("min").asDouble(),
              1e-9);
          assertEquals(
              scores.stream().mapToDouble(x -> x).max().orElseThrow(),
              m.get("max").asDouble(),
              1e-9);
        }
        assertEquals(
            task.get("tuned").get("mean").asDouble() - task.get("base").get("mean").asDouble(),
            task.get("delta").get("mean").asDouble(),
            1e-9);
      }
      double tunedMean = 0;
      for (JsonNode task : cluster.get("tasks"))
        tunedMean += task.get("tuned").get("mean").asDouble() / cluster.get("tasks").size();
      assertEquals(tunedMean, cluster.get("mean").get("tuned").asDouble(), 1e-9);
    }
    generationAndSignificanceAgreeWithThePredictions(report, byGroup);

    JsonNode sentiment = report.get("clusters").get(0).get("tasks").get(0);
    assertEquals(List.of(0, 1, 2), ints(sentiment.get("templates")));
    assertEquals(3, sentiment.get("skipped_templates").get(0).get("template").asInt());
    assertTrue(
        sentiment.get("tuned").has("acc_norm_token")
            && sentiment.get("tuned").has("acc_norm_char"));
    JsonNode prov = report.get("provenance");
    assertEquals(64, prov.get("models").get("tuned").get("sha256").asText().length());
    assertEquals(64, prov.get("models").get("base").get("sha256").asText().length());
    assertEquals(0, prov.get("shots").asInt());
    assertEquals("validation", prov.get("split").asText());

    // report.md and a self-contained report.html with real PNGs (clusters, 2 spreads, loss curve).
    String md = Files.readString(out.resolve("report.md"));
    assertTrue(md.contains("tiny_sentiment") && md.contains("Template 3 not evaluated"), md);
    assertTrue(
        md.contains("## Intervals and significance")
            && md.contains("### Generative accuracy")
            && md.contains("### Option rate"),
        md);
    String html = Files.readString(out.resolve("report.html"));
    Matcher png = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
    int images = 0;
    while (png.find()) {
      byte[] bytes = Base64.getDecoder().decode(png.group(1));
      assertEquals((byte) 0x89, bytes[0]);
      assertEquals("PNG", new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
      images++;
    }
    assertEquals(1 + 2 + 1, images, "cluster bars, one spread plot per cluster, the loss curve");
    assertTrue(html.contains("alt=\"training loss\""));
  }

  /**
   * Generative accuracy and option rate recomputed from each prediction's generation and option
   * targets; every score has an interval around it and every Δ a p-value.
   */
  private static void generationAndSignificanceAgreeWithThePredictions(
      JsonNode report, Map<String, List<JsonNode>> byGroup) {
    int generations = 0;
    for (JsonNode cluster : report.get("clusters")) {
      for (JsonNode task : cluster.get("tasks")) {
        boolean cls = task.get("kind").asText().equals("classification");
        for (String model : List.of("tuned", "base")) {
          JsonNode m = task.get(model);
          assertEquals(cls, m.has("generative_accuracy"), model + " " + task.get("task"));
          JsonNode ci = m.get("ci95");
          assertTrue(
              ci.get(0).asDouble() <= m.get("mean").asDouble() + 1e-9
                  && m.get("mean").asDouble() <= ci.get(1).asDouble() + 1e-9,
              ci + " around " + m.get("mean"));
          if (!cls) continue;
          for (JsonNode t : m.get("per_template")) {
            List<JsonNode> preds =
                byGroup.get(
                    model + "/" + task.get("task").asText() + "/" + t.get("template").asInt());
            double right = 0, option = 0;
            for (JsonNode p : preds) {
              String said = norm(p.get("generation").asText());
              List<String> targets = strings(p.get("option_targets"));
              int answer = strings(p.get("options")).indexOf(p.get("answer").asText());
              right += said.equals(norm(targets.get(answer))) ? 1 : 0;
              option += targets.stream().map(EvalCommandTest::norm).toList().contains(said) ? 1 : 0;
              generations++;
            }
            assertEquals(100 * right / preds.size(), t.get("generative_accuracy").asDouble(), 1e-9);
            assertEquals(100 * option / preds.size(), t.get("option_rate").asDouble(), 1e-9);
            // Wilson's interval of one template's accuracy over its examples.
            assertEquals(2, t.get("ci95").size());
          }
        }
        JsonNode delta = task.get("delta");
        assertTrue(
            delta.get("p").asDouble() > 0 && delta.get("p").asDouble() <= 1, delta.toString());
        assertEquals(task.get("templates").size(), delta.get("per_template_p").size());
        if (cls) {
          assertEquals("mcnemar_exact", delta.get("per_template_test").get(0).asText());
          assertTrue(delta.get("generative_accuracy").has("p"));
        }
      }
      assertTrue(cluster.get("delta_test").has("p"), cluster.toString());
      assertTrue(cluster.get("ci95").get("tuned").isArray());
    }
    assertTrue(generations > 0);
  }

  /** The report's normalization, written again: strip, lower-case, drop trailing punctuation. */
  private static String norm(String s) {
    return s.strip().toLowerCase(java.util.Locale.ROOT).replaceAll("[\\p{P}\\s]+$", "");
  }

  @Test
  void answersAreNormalizedBeforeTheyAreCompared() {
    assertEquals("yes", dev.flantune.eval.EvalTestAccess.normalize("  Yes.\n"));
    assertEquals("positive", dev.flantune.eval.EvalTestAccess.normalize("POSITIVE!?"));
    assertEquals("it is (a", dev.flantune.eval.EvalTestAccess.normalize("It is (a)."));
    assertEquals("no way", dev.flantune.eval.EvalTestAccess.normalize("no way"));
  }

  @Test
  void configSuppliesTasksHeldOutClustersAndEvalSettings() throws IOException {
    Path cfg = dir.resolve("run.yaml");
    Files.writeString(
        cfg,
        "model: "
            + TUNED.toAbsolutePath()
            + "\n"
            + "data: {tasks: "
            + TASKS.toAbsolutePath()
            + ", held_out: [commonsense]}\n"
            + "eval: {max_examples: 1, batch_size: 2}\n");
    Path out = dir.resolve("eval");
    CliTest.Run r =
        run(
            "eval",
            "--config",
            cfg.toString(),
            "--model",
            TUNED.toString(),
            "--out",
            out.toString(),
            "--no-generative");
    assertEquals(0, r.code(), r.err());
    JsonNode report = JSON.readTree(out.resolve("report.json").toFile());
    assertEquals(List.of("tuned"), strings(report.get("models")));
    assertFalse(
        report.get("clusters").get(0).get("tasks").get(0).get("tuned").has("generative_accuracy"),
        "--no-generative: rank classification only");
    assertFalse(Files.readString(out.resolve("predictions.jsonl")).contains("\"generation\""));
    assertEquals(List.of("commonsense"), strings(report.get("provenance").get("held_out")));
    assertEquals(1, report.get("clusters").get(0).get("tasks").get(0).get("n_examples").asInt());
    assertFalse(report.get("clusters").get(0).get("tasks").get(0).has("delta"));
    assertEquals(
        2, Files.readAllLines(out.resolve("predictions.jsonl")).size(), "1 example × 2 templates");
  }

  @Test
  void unknownClusterIsBadUsageAndBadModelIsBadInput() throws IOException {
    assertOneLineError(
        run(
            "eval",
            "--held-out",
            "sentiment,nope",
            "--model",
            TUNED.toString(),
            "--tasks",
            TASKS.toString(),
            "--out",
            dir.resolve("a").toString()),
        2,
        "'nope'",
        "known clusters",
        "closed_book_qa",
        "sentiment");
    assertOneLineError(
        run(
            "eval",
            "--held-out",
            "paraphrase",
            "--model",
            TUNED.toString(),
            "--tasks",
            TASKS.toString(),
            "--out",
            dir.resolve("b").toString()),
        2,
        "tiny_paraphrase",
        "no validation split");
    Path empty = Files.createDirectories(dir.resolve("not-a-model"));
    assertOneLineError(
        run(
            "eval",
            "--held-out",
            "sentiment",
            "--model",
            empty.toString(),
            "--tasks",
            TASKS.toString(),
            "--out",
            dir.resolve("c").toString()),
        3,
        empty.toString());
    assertOneLineError(
        run("eval", "--model", TUNED.toString(), "--tasks", TASKS.toString()), 2, "--held-out");
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }

  private static List<Integer> ints(JsonNode array) {
    List<Integer> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asInt()));
    return out;
  }
}
