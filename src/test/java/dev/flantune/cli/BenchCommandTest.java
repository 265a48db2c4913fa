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

  /** {@link #TINY} followed by {@code extra}. */
  static String[] tiny(String... extra) {
    String[] args = java.util.Arrays.copyOf(TINY, TINY.length + extra.length);
    System.arraycopy(extra, 0, args, TINY.length, extra.length);
    return args;
  }

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
    JsonNode o = json(CliTest.run(tiny("--mode", "score")));
    assertEquals("score", o.get("mode").asText());
    double tps = o.get("tokens_per_s").asDouble(), eps = o.get("examples_per_s").asDouble();
    assertEquals(tps / 8, eps, 1e-6 * tps, "examples are sequences of --seq tokens");
  }

  @Test
  void unknownModeIsAUsageError() {
    CliTest.assertOneLineError(CliTest.run(tiny("--mode", "fast")), 2, "--mode");
  }

  @Test
  void llamaArchitectureBenchesWithGroupedHeads() throws Exception {
    JsonNode o = json(CliTest.run(tiny("--arch", "llama", "--kv-heads", "1", "--inter", "24")));
    assertTrue(o.get("tokens_per_s").asDouble() > 0);
    assertEquals("llama", o.get("arch").asText());
    // V64·C16 embedding (tied) + 1 layer: q 16·16, k and v 8·16 each, o 16·16, gate/up/down
    // 3·24·16, two norms of 16, final norm 16.
    long params = 64 * 16 + (16 * 16 + 2 * 8 * 16 + 16 * 16 + 3 * 24 * 16 + 2 * 16) + 16;
    assertEquals(params, o.get("parameters").asLong());
    assertOneLine(CliTest.run("bench", "--arch", "falcon", "--format", "json"));
  }

  /**
   * {@code --also-seq}: a second length timed in the same process, alternated step by step; its
   * batch defaults to the same tokens per step, and the ratios are those of the two results.
   */
  @Test
  void aSecondLengthIsTimedAlongsideAndCompared() throws Exception {
    JsonNode o = json(CliTest.run(tiny("--also-seq", "4")));
    JsonNode also = o.get("also");
    assertEquals(8, o.get("config").get("seq").asInt());
    assertEquals(4, also.get("config").get("seq").asInt());
    assertEquals(4, also.get("config").get("batch").asInt(), "8·2 tokens per step, as --seq's");
    assertEquals(2, also.get("ms_per_step_all").size());
    double ratio = also.get("tokens_per_s").asDouble() / o.get("tokens_per_s").asDouble();
    assertEquals(ratio, o.get("tokens_per_s_ratio").asDouble(), 1e-9 * ratio);
    double[] pairs = new double[2];
    for (int i = 0; i < 2; i++)
      pairs[i] =
          o.get("ms_per_step_all").get(i).asDouble()
              / also.get("ms_per_step_all").get(i).asDouble(); // same tokens per step
    double median = (pairs[0] + pairs[1]) / 2;
    assertEquals(median, o.get("step_pair_ratio_median").asDouble(), 1e-9 * median);
    // a GPT-2 model long enough for both lengths: the attention FLOPs follow each one's length
    assertTrue(
        also.get("gflops").asDouble() / also.get("tokens_per_s").asDouble()
            < o.get("gflops").asDouble() / o.get("tokens_per_s").asDouble());

    CliTest.Run bad = CliTest.run("bench", "--also-batch", "2");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--also-seq"), bad.err());
    bad = CliTest.run("bench", "--also-seq", "16", "--profile");
    assertEquals(2, bad.code(), bad.err());
    assertTrue(bad.err().contains("--profile"), bad.err());
  }

  private static void assertOneLine(CliTest.Run r) {
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("falcon") && r.err().contains("llama"), r.err());
  }
}
