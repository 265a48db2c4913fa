package dev.flantune.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.config.RunConfig.TrainConfig;
import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The training loop, top to bottom: for each step, run {@link TrainStep}, log, measure validation
 * loss every N steps, checkpoint every N steps and at the end. A stop request (Ctrl-C) ends the
 * loop after the current step with a checkpoint.
 */
public final class Trainer {
  private final OptimizerStep step;
  private final BatchSource source;
  private final List<Batch> validation;
  private final RunDir run;
  private final TrainConfig cfg;
  private final LrSchedule schedule;
  private final Path tokenizerSource;
  private final long seed;
  private final String configSha;
  private final Progress progress;
  private final AtomicBoolean stopRequested;

  public Trainer(
      OptimizerStep step,
      BatchSource source,
      List<Batch> validation,
      RunDir run,
      TrainConfig cfg,
      Path tokenizerSource,
      long seed,
      String configSha,
      Progress progress,
      AtomicBoolean stopRequested) {
    this.step = step;
    this.source = source;
    this.validation = validation;
    this.run = run;
    this.cfg = cfg;
    this.schedule =
        new LrSchedule(cfg.lr(), cfg.warmup(), cfg.steps(), cfg.schedule(), cfg.minLrRatio());
    this.tokenizerSource = tokenizerSource;
    this.seed = seed;
    this.configSha = configSha;
    this.progress = progress;
    this.stopRequested = stopRequested;
  }

  /** How the loop ended. */
  public record Outcome(long stepsDone, boolean stopped, double lastLoss) {}

  /** Trains from step {@code start} (0 for a new run; the checkpoint's step when resuming). */
  public Outcome train(long start, long tokensSeenBefore) throws IOException {
    long tokensSeen = tokensSeenBefore;
    double lastLoss = Double.NaN;
    long begin = System.nanoTime();
    long tokensAtBegin = tokensSeen;
    try (Writer metrics =
        Files.newBufferedWriter(
            run.resolve(RunDir.METRICS), StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      for (long s = start; s < cfg.steps(); s++) {
        long t0 = System.nanoTime();
        TrainStep.Result r = step.run(source, s, schedule.at(s));
        double secs = (System.nanoTime() - t0) / 1e9;
        tokensSeen += r.tokens();
        lastLoss = r.loss();
        long done = s + 1;
        double tokPerS = (tokensSeen - tokensAtBegin) / ((System.nanoTime() - begin) / 1e9);
        ObjectNode line =
            RunDir.JSON
                .createObjectNode()
                .put("step", done)
                .put("loss", r.loss())
                .put("lr", r.lr())
                .put("grad_norm", r.gradNorm())
                .put("tokens", r.tokens())
                .put("target_tokens", r.targetTokens())
                .put("tokens_seen", tokensSeen)
                .put("step_s", secs)
                .put("tokens_per_s", tokPerS);
        if (cfg.evalEvery() > 0
            && !validation.isEmpty()
            && (done % cfg.evalEvery() == 0 || done == cfg.steps())) {
          line.put("val_loss", validationLoss(step.model(), validation));
        }
        metrics.write(
            RunDir.JSON
                    .writer()
                    .without(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(line)
                + "\n");
        metrics.flush();
        progress.step(
            done,
            cfg.steps(),
            r,
            tokPerS,
            line.has("val_loss") ? line.get("val_loss").asDouble() : Double.NaN);
        boolean stop = stopRequested.get();
        if (done % cfg.checkpointEvery() == 0 || done == cfg.steps() || stop) {
          Path ckpt =
              run.saveCheckpoint(
                  step.model(),
                  step.optimizer(),
                  new RunDir.State(
                      done,
                      source.position(),
                      step.optimizer().step(),
                      seed,
                      tokensSeen,
                      configSha),
                  tokenizerSource,
                  cfg.keepCheckpoints());
          progress.note("checkpoint " + ckpt.getFileName() + " written");
        }
        if (stop) return new Outcome(done, true, lastLoss);
      }
    }
    return new Outcome(cfg.steps(), false, lastLoss);
  }

  /** Mean negative log-likelihood over the validation batches' loss-masked tokens. */
  public static double validationLoss(CausalLm model, List<Batch> batches) {
    double sum = 0;
    long count = 0;
    for (Batch b : batches) {
      double[] nll = model.tokenScores(b).nll();
      for (int i = 0; i < nll.length; i++) {
        if (b.lossMask()[i] != 0f) {
          sum += nll[i];
          count++;
        }
      }
    }
    return count == 0 ? Double.NaN : sum / count;
  }
}
