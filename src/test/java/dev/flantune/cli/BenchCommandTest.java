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

  /** Generation: both loops timed, every batched row equal to its one-at-a-time tokens. */
  @Test
  void generationComparesBatchOneWithBatched() throws Exception {
    JsonNode o =
        json(
            CliTest.run(
                "bench",
                "--mode",
                "generate",
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
                "3",
                "--prompts",
                "5",
                "--new-tokens",
                "6",
                "--rounds",
                "2",
                "--format",
                "json"));
    assertEquals("generate", o.get("mode").asText());
    assertEquals(10, o.get("compared_rows").asInt());
    assertEquals(10, o.get("identical_rows").asInt());
    for (String side : new String[] {"one_at_a_time", "batched"}) {
      assertEquals(2, o.get(side).get("seconds_all").size());
      double tps = o.get(side).get("tokens_per_s").asDouble();
      assertEquals(6 * o.get(side).get("sequences_per_s").asDouble(), tps, 1e-6 * tps); // 6 each
    }
    assertEquals(o.get("batched").get("tokens_per_s").asDouble(), o.get("tokens_per_s").asDouble());
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

  @Test
  void llamaArchitectureBenchesWithGroupedHeads() throws Exception {
    String[] args = java.util.Arrays.copyOf(TINY, TINY.length + 6);
    System.arraycopy(
        new String[] {"--arch", "llama", "--kv-heads", "1", "--inter", "24"},
        0,
        args,
        TINY.length,
        6);
    JsonNode o = json(CliTest.run(args));
    assertTrue(o.get("tokens_per_s").asDouble() > 0);
    assertEquals("llama", o.get("arch").asText());
    // V64·C16 embedding (tied) + 1 layer: q 16·16, k and v 8·16 each, o 16·16, gate/up/down
    // 3·24·16, two norms of 16, final norm 16.
    long params = 64 * 16 + (16 * 16 + 2 * 8 * 16 + 16 * 16 + 3 * 24 * 16 + 2 * 16) + 16;
    assertEquals(params, o.get("parameters").asLong());
    assertOneLine(CliTest.run("bench", "--arch", "falcon", "--format", "json"));
  }

  private static void assertOneLine(CliTest.Run r) {
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("falcon") && r.err().contains("llama"), r.err());
  }
}
