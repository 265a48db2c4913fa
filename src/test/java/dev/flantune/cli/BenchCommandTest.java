package dev.flantune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code bench --format json} prints one object with {@code tokens_per_s} (the contract the
 * benchmark script reads), for training steps and for scoring; bad options are usage errors.
 */
class BenchCommandTest {
  static final String[] TINY = {
    "bench",
    "--vocab",
    "64",
    "--embd",
    "16",
    "--layers",
    "1",
    "--heads",
    "2",
    "--seq",
    "8",
    "--batch",
    "2",
    "--steps",
    "2",
    "--warmup",
    "1",
    "--format",
    "json"
  };

  static JsonNode json(CliTest.Run r) throws Exception {
    assertEquals(0, r.code(), r.err());
    String[] lines = r.out().strip().split("\n");
    assertEquals(1, lines.length, "one JSON object on stdout: " + r.out());
    return new ObjectMapper().readTree(lines[0]);
  }

  @Test
  void trainingStepsReportTokensPerSecondAndTheEngine() throws Exception {
    JsonNode o = json(CliTest.run(TINY));
    assertTrue(o.get("tokens_per_s").asDouble() > 0);
    assertEquals("train", o.get("mode").asText());
    assertEquals("cpu", o.get("engine").asText());
    assertEquals(2, o.get("ms_per_step_all").size());
    assertTrue(o.get("peak_rss_mb").asDouble() > 0);
  }

  @Test
  void scoringReportsExamplesPerSecond() throws Exception {
    String[] args = java.util.Arrays.copyOf(TINY, TINY.length + 2);
    args[TINY.length] = "--mode";
    args[TINY.length + 1] = "score";
    JsonNode o = json(CliTest.run(args));
    assertEquals("score", o.get("mode").asText());
    double tps = o.get("tokens_per_s").asDouble(), eps = o.get("examples_per_s").asDouble();
    assertEquals(tps / 8, eps, 1e-6 * tps, "examples are sequences of --seq tokens");
  }

  @Test
  void unknownModeIsAUsageError() {
    String[] args = java.util.Arrays.copyOf(TINY, TINY.length + 2);
    args[TINY.length] = "--mode";
    args[TINY.length + 1] = "fast";
    CliTest.assertOneLineError(CliTest.run(args), 2, "--mode");
  }
}
