package dev.flantune.train.spark;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.config.ConfigLoader;
import dev.flantune.config.ConfigTree;
import dev.flantune.config.RunConfig;
import dev.flantune.train.Progress;
import dev.flantune.train.RunDir;
import dev.flantune.train.TrainRecipe;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on an embedded Spark computes what one process computes: same losses and weights with
 * local[2] as without Spark; a task failure retried by Spark leaves no trace in the result; a job
 * that fails for good stops with the last checkpoint intact, and --resume with a fresh context
 * continues exactly.
 */
class SparkTrainingTest {
  @TempDir Path dir;

  @AfterEach
  void noHook() {
    PartitionWork.faultHook = null;
  }

  Path config() throws IOException {
    Path text = Path.of("src/test/resources/text").toAbsolutePath();
    Path tok = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json").toAbsolutePath();
    Path cfg = dir.resolve("run.yaml");
    Files.writeString(
        cfg,
        String.join(
            "\n",
            "init: {tokenizer: " + tok + ", layers: 1, heads: 2, embd: 16, positions: 32}",
            "seed: 5",
            "data:",
            "  objective: causal_lm",
            "  text: {train: ["
                + text.resolve("tiny-train.txt")
                + "], validation: ["
                + text.resolve("tiny-validation.txt")
                + "]}",
            "  max_length: 16",
            "  validation_examples: 8",
            "train: {steps: 6, batch_size: 2, grad_accum: 4, lr: 1.0e-2, warmup: 2,"
                + " checkpoint_every: 2, keep_checkpoints: 5, eval_every: 3}",
            ""));
    return cfg;
  }

  TrainRecipe.Summary run(Path out, boolean resume, String... overrides) throws IOException {
    RunConfig cfg = ConfigLoader.load(config(), List.of(overrides));
    Progress p = new Progress(new PrintWriter(new StringWriter()), false, 1);
    return new TrainRecipe(cfg, ConfigTree.yaml(cfg), p, new AtomicBoolean()).run(out, resume);
  }

  static List<JsonNode> metrics(Path run) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(run.resolve(RunDir.METRICS))) {
      if (!line.isBlank()) out.add(new ObjectMapper().readTree(line));
    }
    return out;
  }

  /** Per step: loss, grad_norm, val_loss (NaN when absent), tokens, target tokens. */
  static List<double[]> numbers(Path run) throws IOException {
    List<double[]> out = new ArrayList<>();
    for (JsonNode m : metrics(run)) {
      out.add(
          new double[] {
            m.get("step").asDouble(),
            m.get("loss").asDouble(),
            m.get("grad_norm").asDouble(),
            m.has("val_loss") ? m.get("val_loss").asDouble() : Double.NaN,
            m.get("tokens").asDouble(),
            m.get("target_tokens").asDouble()
          });
    }
    return out;
  }

  static void assertNumbersClose(List<double[]> a, List<double[]> b, double rel) {
    assertEquals(a.size(), b.size());
    for (int s = 0; s < a.size(); s++) {
      for (int k = 0; k < a.get(s).length; k++) {
        double x = a.get(s)[k], y = b.get(s)[k];
        if (Double.isNaN(x)) assertTrue(Double.isNaN(y), "step " + (s + 1) + " field " + k);
        else assertEquals(x, y, rel * Math.max(1, Math.abs(x)), "step " + (s + 1) + " field " + k);
      }
    }
  }

  /** The largest absolute difference between two checkpoints' weights. */
  static double maxWeightDiff(Path a, Path b) {
    var wa = dev.flantune.model.Checkpoints.load(a).weights();
    var wb = dev.flantune.model.Checkpoints.load(b).weights();
    assertEquals(wa.keySet(), wb.keySet());
    double max = 0;
    for (String k : wa.keySet()) {
      float[] x = wa.get(k).data(), y = wb.get(k).data();
      assertEquals(x.length, y.length, k);
      for (int i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }

  @Test
  void localTwoWorkersEqualsSingleProcessAccumulation() throws IOException {
    TrainRecipe.Summary single = run(dir.resolve("single"), false);
    TrainRecipe.Summary spark =
        run(dir.resolve("spark"), false, "distributed.spark.master=local[2]");
    // Up to fp32 summation order: each partition sums its own micro-batches, the driver sums the
    // partitions and divides once, where one process weights every token by 1/targets.
    assertNumbersClose(numbers(single.runDir()), numbers(spark.runDir()), 1e-5);
    double diff = maxWeightDiff(single.finalModel(), spark.finalModel());
    System.err.println("local[2] against one process: final weights max |diff| = " + diff);
    assertTrue(diff < 3e-5, "final weights differ by " + diff); // measured 3.2e-6
  }

  @Test
  void retriedTaskGivesTheIdenticalStep() throws IOException {
    TrainRecipe.Summary clean =
        run(dir.resolve("clean"), false, "distributed.spark.master='local[2,2]'");
    AtomicInteger injected = new AtomicInteger();
    PartitionWork.faultHook =
        (step, partition, attempt) -> {
          if (step == 2 && partition == 1 && attempt == 0) {
            injected.incrementAndGet();
            throw new IllegalStateException("injected failure of partition 1 at step 3");
          }
        };
    TrainRecipe.Summary retried =
        run(dir.resolve("retried"), false, "distributed.spark.master='local[2,2]'");
    assertEquals(1, injected.get(), "the failure was injected once and the task retried");
    assertNumbersClose(numbers(clean.runDir()), numbers(retried.runDir()), 0);
    assertEquals(0.0, maxWeightDiff(clean.finalModel(), retried.finalModel()));
  }

  @Test
  void jobThatFailsForGoodStopsCleanlyAndResumesExactly() throws IOException {
    TrainRecipe.Summary full = run(dir.resolve("full"), false, "distributed.spark.master=local[2]");
    PartitionWork.faultHook =
        (step, partition, attempt) -> {
          if (step == 2) throw new IllegalStateException("worker lost its disk");
        };
    Path broken = dir.resolve("broken");
    FlanTuneException e =
        assertThrows(
            FlanTuneException.class, () -> run(broken, false, "distributed.spark.master=local[2]"));
    assertEquals(FlanTuneException.Kind.RUN_FAILED, e.kind());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertTrue(
        e.getMessage().startsWith("step 3: the Spark job failed")
            && e.getMessage().contains("worker lost its disk")
            && e.getMessage().contains("--resume"),
        e.getMessage());
    RunDir rd = new RunDir(broken);
    assertEquals(
        List.of("step-00000002"),
        rd.checkpoints().stream().map(p -> p.getFileName().toString()).toList());
    dev.flantune.model.Checkpoints.load(rd.checkpoints().get(0)); // intact and loadable
    assertEquals(2, metrics(broken).size(), "no line for the failed step");

    PartitionWork.faultHook = null;
    TrainRecipe.Summary resumed = run(broken, true, "distributed.spark.master=local[2]");
    assertNumbersClose(numbers(full.runDir()), numbers(resumed.runDir()), 0);
    assertEquals(0.0, maxWeightDiff(full.finalModel(), resumed.finalModel()));
  }

  @Test
  void localSgdOnOneWorkerIsTheSingleProcessRun() throws IOException {
    // One worker: each round's local steps are the single-process steps on all micro-batches, and
    // averaging over one partition is the identity; this checks the round's bookkeeping (data
    // order, learning rates, Adam state shipped both ways, per-step results).
    TrainRecipe.Summary single = run(dir.resolve("single"), false, "train.eval_every=2");
    TrainRecipe.Summary rounds =
        run(
            dir.resolve("rounds"),
            false,
            "train.eval_every=2",
            "distributed.spark.master=local[2]",
            "distributed.spark.workers=1",
            "distributed.spark.sync_every=2");
    assertNumbersClose(numbers(single.runDir()), numbers(rounds.runDir()), 1e-12);
    assertEquals(0.0, maxWeightDiff(single.finalModel(), rounds.finalModel()));
  }

  @Test
  void localSgdOnTwoWorkersIsADifferentRun() throws IOException {
    TrainRecipe.Summary sync =
        run(dir.resolve("sync"), false, "train.eval_every=2", "distributed.spark.master=local[2]");
    TrainRecipe.Summary local =
        run(
            dir.resolve("local"),
            false,
            "train.eval_every=2",
            "distributed.spark.master=local[2]",
            "distributed.spark.sync_every=2");
    List<double[]> a = numbers(sync.runDir()), b = numbers(local.runDir());
    assertEquals(6, b.size());
    assertEquals(a.get(0)[1], b.get(0)[1], 1e-5, "the first step starts from the same weights");
    assertTrue(Double.isFinite(b.get(5)[3]) && b.get(5)[3] < b.get(1)[3], "validation loss falls");
    double diff = maxWeightDiff(sync.finalModel(), local.finalModel());
    assertTrue(diff > 1e-4, "local SGD is not the synchronous run: " + diff);
  }

  @Test
  void localSgdRoundsMustDivideStepsAndCheckpoints() throws IOException {
    var e =
        assertThrows(
            FlanTuneException.class,
            () ->
                ConfigLoader.load(
                    config(),
                    List.of(
                        "distributed.spark.master=local[2]", "distributed.spark.sync_every=4")));
    assertTrue(
        e.getMessage()
                .contains("train.steps (6) must be a multiple of distributed.spark.sync_every (4)")
            && e.getMessage().contains("train.checkpoint_every (2)"),
        e.getMessage());
  }

  @Test
  void gradAccumMustBeAMultipleOfWorkers() throws IOException {
    var e =
        assertThrows(
            FlanTuneException.class,
            () ->
                ConfigLoader.load(
                    config(), List.of("distributed.spark.master=local[2]", "train.grad_accum=3")));
    assertEquals(FlanTuneException.Kind.BAD_USAGE, e.kind());
    assertTrue(
        e.getMessage()
            .contains("train.grad_accum (3) must be a multiple of distributed.spark.workers (2)"),
        e.getMessage());
    // Without a master nothing is checked: one process takes any grad_accum.
    ConfigLoader.load(config(), List.of("train.grad_accum=3"));
  }

  @Test
  void logbackIsTheOnlySlf4jBinding() {
    assertEquals(
        List.of("ch.qos.logback.classic.spi.LogbackServiceProvider"),
        SparkContexts.slf4jProviders());
  }
}
