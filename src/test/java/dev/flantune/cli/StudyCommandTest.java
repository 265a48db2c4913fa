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
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code flan-tune study} end to end on a random 1-layer model and the fixture collection, a few
 * training steps per run: the runs hold out what they should, the reports agree with the runs' own
 * reports, a second invocation reuses finished runs, and an interrupted run resumes to the same
 * numbers.
 */
class StudyCommandTest {
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;

  private Path config() throws IOException {
    Path base = dir.resolve("base");
    CliTest.Run init = CliTest.initTiny(base, 64, "--seed", "1");
    assertEquals(0, init.code(), init.err());
    Path cfg = dir.resolve("study.yaml");
    Files.writeString(
        cfg,
        "model: "
            + base.toAbsolutePath()
            + "\ndata: {tasks: "
            + EvalCommandTest.TASKS.toAbsolutePath()
            + ", max_length: 64, validation_examples: 4}\n"
            + "train: {steps: 4, batch_size: 2, lr: 1.0e-3, warmup: 1, log_every: 1, eval_every: 0,"
            + " checkpoint_every: 2, keep_checkpoints: 2}\n"
            + "eval: {max_examples: 3, batch_size: 4}\n");
    return cfg;
  }

  @Test
  void leaveOneClusterOutTrainsWithoutItAndReusesFinishedRuns() throws IOException {
    Path cfg = config();
    Path out = dir.resolve("held");
    String[] args = {
      "study",
      "held-out",
      "--config",
      cfg.toString(),
      "--clusters",
      "sentiment,commonsense",
      "--out",
      out.toString()
    };
    CliTest.Run r = run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode study = JSON.readTree(out.resolve("study.json").toFile());
    assertEquals("held-out", study.get("study").asText());
    assertEquals(2, study.get("runs").size());
    for (JsonNode run : study.get("runs")) {
      String held = run.get("held_out").asText();
      List<String> trained = strings(run.get("trained_clusters"));
      assertFalse(trained.contains(held), trained.toString());
      assertEquals(7 - 1, trained.size(), "no overlaps declared for sentiment or commonsense");
      // The numbers are the run's own report's, for the held-out cluster.
      Path runDir = Path.of(run.get("run_dir").asText());
      assertEquals(out.resolve("held-out-" + held).toAbsolutePath(), runDir);
      assertTrue(Files.readString(runDir.resolve("config.resolved.yaml")).contains(held));
      JsonNode cluster =
          JSON.readTree(runDir.resolve("eval/report.json").toFile()).get("clusters").get(0);
      assertEquals(held, cluster.get("name").asText());
      assertEquals(cluster.get("mean"), run.get("mean"));
      assertTrue(run.get("delta_test").get("p").asDouble() > 0);
      assertTrue(run.get("ci95").get("tuned").isArray());
      assertTrue(
          run.get("generative_accuracy").has("tuned"), "classification: generation measured");
      assertFalse(run.get("reused").asBoolean());
    }
    String md = Files.readString(out.resolve("study.md"));
    assertTrue(md.contains("| sentiment | 6 clusters |") && md.contains("| commonsense |"), md);
    assertPng(out.resolve("study.png"));

    // Again: nothing is retrained, and the report is the same.
    CliTest.Run again = run(args);
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("reusing the finished run"), again.err());
    JsonNode second = JSON.readTree(out.resolve("study.json").toFile());
    for (int i = 0; i < 2; i++) {
      assertTrue(second.get("runs").get(i).get("reused").asBoolean());
      assertEquals(study.get("runs").get(i).get("mean"), second.get("runs").get(i).get("mean"));
      assertEquals(
          study.get("runs").get(i).get("seconds").asDouble(),
          second.get("runs").get(i).get("seconds").asDouble(),
          0,
          "a reused run reports the time it took");
    }
  }

  @Test
  void clusterCountAddsClustersInASeededOrderAndResumesAnInterruptedRun() throws IOException {
    Path cfg = config();
    Path out = dir.resolve("count");
    String[] args = {
      "study",
      "clusters",
      "--config",
      cfg.toString(),
      "--held-out",
      "nli",
      "--counts",
      "1,2",
      "--seed",
      "5",
      "--out",
      out.toString()
    };
    CliTest.Run r = run(args);
    assertEquals(0, r.code(), r.err());
    JsonNode study = JSON.readTree(out.resolve("study.json").toFile());
    assertEquals(2, study.get("runs").size());
    List<String> one = strings(study.get("runs").get(0).get("trained_clusters"));
    List<String> two = strings(study.get("runs").get(1).get("trained_clusters"));
    assertEquals(1, one.size());
    assertEquals(2, two.size());
    assertEquals(one.get(0), two.get(0), "clusters are added, not redrawn");
    assertFalse(two.contains("nli") || two.contains("paraphrase"), "held out with its overlap");
    // Every task of a cluster not trained on has mixing weight 0 in that run's config.
    String resolved = Files.readString(out.resolve("clusters-1/config.resolved.yaml"));
    for (String task : List.of("tiny_sentiment", "tiny_mc", "tiny_qa", "tiny_nli")) {
      String cluster = clusterOf(task);
      boolean zero = resolved.contains(task + ": 0");
      assertEquals(
          !one.contains(cluster) && !cluster.equals("nli"), zero, task + " in\n" + resolved);
    }
    assertTrue(
        Files.readString(out.resolve("study.md")).contains("Training clusters in the order added"));
    assertPng(out.resolve("study.png"));

    // Interrupt the second run after its step-2 checkpoint: the study resumes it exactly.
    Path second = out.resolve("clusters-2");
    JsonNode before = JSON.readTree(second.resolve("eval/report.json").toFile());
    for (String gone : List.of("eval", "final", "study-run.json")) deleteTree(second.resolve(gone));
    try (Stream<Path> cps = Files.list(second.resolve("checkpoints"))) {
      List<Path> sorted = cps.sorted().toList();
      for (Path cp : sorted) if (!cp.getFileName().toString().endsWith("00002")) deleteTree(cp);
      assertTrue(Files.isDirectory(second.resolve("checkpoints/step-00000002")), sorted.toString());
    }
    CliTest.Run again = run(args);
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("resuming"), again.err());
    JsonNode after = JSON.readTree(second.resolve("eval/report.json").toFile());
    JsonNode b = before.get("clusters").get(0), a = after.get("clusters").get(0);
    assertEquals(b.get("mean"), a.get("mean"), "resumed exactly: the same held-out scores");
    assertEquals(
        b.get("tasks").get(0).get("tuned").get("per_template"),
        a.get("tasks").get(0).get("tuned").get("per_template"));
  }

  @Test
  void overridesReachEveryRunAndAnEditedConfigIsNotReusedSilently() throws IOException {
    Path cfg = config();
    Path out = dir.resolve("over");
    List<String> args =
        new ArrayList<>(
            List.of(
                "study",
                "held-out",
                "--config",
                cfg.toString(),
                "--clusters",
                "sentiment",
                "--out",
                out.toString(),
                "train.steps=3",
                "data.held_out=[commonsense]"));
    CliTest.Run r = run(args.toArray(String[]::new));
    assertEquals(0, r.code(), r.err());
    Path runDir = out.resolve("held-out-sentiment");
    String resolved = Files.readString(runDir.resolve("config.resolved.yaml"));
    assertTrue(resolved.contains("steps: 3"), resolved);
    assertTrue(
        resolved.contains("held_out:\n  - sentiment") || resolved.contains("held_out: [sentiment]"),
        "the study's own held-out cluster wins over the command line's:\n" + resolved);
    long steps;
    try (Stream<String> lines = Files.lines(runDir.resolve("metrics.jsonl"))) {
      steps = lines.filter(l -> l.contains("\"step\"")).count();
    }
    assertEquals(3, steps, "the run trained the overridden number of steps");

    // The same study with another step count must not report the 3-step run as its own.
    args.set(args.indexOf("train.steps=3"), "train.steps=4");
    assertOneLineError(
        run(args.toArray(String[]::new)), 2, "held-out-sentiment", "train.steps: 3 then, 4 now");
    // Unchanged, it is reused.
    args.set(args.indexOf("train.steps=4"), "train.steps=3");
    CliTest.Run again = run(args.toArray(String[]::new));
    assertEquals(0, again.code(), again.err());
    assertTrue(again.err().contains("reusing the finished run"), again.err());
  }

  @Test
  void badCountsAndClustersAreUsageErrors() throws IOException {
    Path cfg = config();
    assertOneLineError(
        run(
            "study",
            "clusters",
            "--config",
            cfg.toString(),
            "--held-out",
            "nli",
            "--counts",
            "1,9",
            "--out",
            dir.resolve("x").toString()),
        2,
        "--counts",
        "9");
    assertOneLineError(
        run(
            "study",
            "held-out",
            "--config",
            cfg.toString(),
            "--clusters",
            "nope",
            "--out",
            dir.resolve("y").toString()),
        2,
        "'nope'",
        "sentiment");
  }

  private static String clusterOf(String task) {
    return switch (task) {
      case "tiny_sentiment" -> "sentiment";
      case "tiny_mc" -> "commonsense";
      case "tiny_qa" -> "closed_book_qa";
      default -> "nli";
    };
  }

  private static void assertPng(Path p) throws IOException {
    byte[] b = Files.readAllBytes(p);
    assertEquals((byte) 0x89, b[0]);
    assertEquals("PNG", new String(b, 1, 3, java.nio.charset.StandardCharsets.US_ASCII));
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return out;
  }
}
