package dev.flantune.train;

import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;
import dev.flantune.model.FlatParameters;
import dev.flantune.model.GradientEngine;
import dev.flantune.model.StepProfile;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One optimizer step, the code both {@code train} and {@code bench} run: forward + backward over
 * the accumulation micro-batches, the loss normalized by the total number of target tokens across
 * all of them (so N micro-batches equal one N-times larger batch), a NaN/Inf guard, global-norm
 * clipping, then AdamW.
 */
public final class TrainStep implements OptimizerStep {
  private final CausalLm model;
  private final GradientEngine engine;
  private final AdamW adam;
  private final double clip;
  private final int gradAccum;
  private boolean discardGradients;

  public TrainStep(CausalLm model, AdamW.Settings settings, double clip, int gradAccum) {
    this.model = model;
    this.engine = GradientEngine.forModel(model);
    this.adam = new AdamW(settings, engine.trainable());
    this.clip = clip;
    this.gradAccum = gradAccum;
  }

  /**
   * Lets AdamW zero the gradients in its pass over them (the next step then skips its own zeroing
   * pass), for runs that do not read a step's gradients after it: {@link #gradients()} and {@link
   * #gradientNorm()} then read zeros between steps. Returns this.
   */
  public TrainStep discardingGradients() {
    discardGradients = true;
    return this;
  }

  /** The forward/backward engine this step runs: "cpu" or "graph". */
  public String engineName() {
    return engine.name();
  }

  @Override
  public AdamW optimizer() {
    return adam;
  }

  @Override
  public CausalLm model() {
    return model;
  }

  /**
   * The gradient buffers of the last step (after clipping), by parameter name; zeros once a step
   * ran {@link #discardingGradients()}.
   */
  public Map<String, INDArray> gradients() {
    return engine.gradients();
  }

  /** The global L2 norm of the current gradient buffers (after clipping, once a step ran). */
  public double gradientNorm() {
    return engine.gradientBuffer().norm2();
  }

  /** What one step did. {@code loss} is the mean over target tokens, before the update. */
  public record Result(
      double loss, double gradNorm, double lr, long tokens, long targetTokens, boolean clipped) {}

  /** Thrown before any update when the loss or a gradient is NaN or infinite. */
  public static final class NonFinite extends FlanTuneException {
    NonFinite(String message) {
      super(Kind.RUN_FAILED, message);
    }
  }

  /** Runs step {@code step} (0-based) with learning rate {@code lr} on the next micro-batches. */
  @Override
  public Result run(BatchSource source, long step, double lr) {
    List<Batch> micro = new ArrayList<>(gradAccum);
    for (int i = 0; i < gradAccum; i++) micro.add(source.next());
    long targets = targetTokens(micro), tokens = realTokens(micro);
    requireTargets(targets, step);
    long t0 = System.nanoTime();
    engine.beginStep(step);
    engine.zeroGradients();
    long t1 = System.nanoTime();
    double loss = accumulate(engine, micro, targets);
    if (StepProfile.enabled()) StepProfile.add("zero gradients", t1 - t0);
    return apply(step, lr, loss, tokens, targets);
  }

  /**
   * Forward + backward over {@code micro} into the engine's gradient buffers, each position's loss
   * weighted by its mask over {@code normalizer}: the step's total target tokens in one process, 1
   * in a Spark partition (which returns sums; the driver divides). Returns the weighted loss.
   */
  public static double accumulate(GradientEngine engine, List<Batch> micro, long normalizer) {
    double loss = 0;
    for (Batch b : micro) loss += engine.accumulate(b, weights(b.lossMask(), normalizer));
    return loss;
  }

  /**
   * The rest of the step once the gradient buffer holds the step's normalized gradient: the NaN/Inf
   * guard, global-norm clipping and AdamW.
   */
  public Result apply(long step, double lr, double loss, long tokens, long targets) {
    long t2 = System.nanoTime();
    double norm = gradientNorm();
    long t3 = System.nanoTime();
    if (!Double.isFinite(loss) || !Double.isFinite(norm)) {
      throw new NonFinite(
          "step "
              + (step + 1)
              + ": "
              + (Double.isFinite(loss) ? "gradient norm" : "loss")
              + " is "
              + (Double.isFinite(loss) ? norm : loss)
              + "; no update was applied and no checkpoint was touched."
              + " Lower train.lr (now "
              + lr
              + "), keep train.clip > 0, or resume from the last checkpoint with --resume");
    }
    boolean clipped = clip > 0 && norm > clip;
    long t4 = System.nanoTime();
    // Clips (or zeroes) the gradients in its pass.
    adam.update(engine.gradientBuffer(), lr, clipped ? clip / norm : 1.0, discardGradients);
    if (discardGradients) engine.gradientsZeroed();
    if (StepProfile.enabled()) {
      StepProfile.add("gradient norm", t3 - t2);
      StepProfile.add("AdamW (and clipping)", System.nanoTime() - t4);
    }
    return new Result(loss, norm, lr, tokens, targets, clipped);
  }

  /** The driver's gradient buffer, which {@link #apply} reads (Spark sums partitions into it). */
  public FlatParameters gradientBuffer() {
    return engine.gradientBuffer();
  }

  public int gradAccum() {
    return gradAccum;
  }

  public static long targetTokens(List<Batch> micro) {
    long n = 0;
    for (Batch b : micro) n += b.targetTokens();
    return n;
  }

  public static long realTokens(List<Batch> micro) {
    long n = 0;
    for (Batch b : micro) n += b.realTokens();
    return n;
  }

  public static void requireTargets(long targets, long step) {
    if (targets == 0) {
      throw FlanTuneException.runFailed(
          "step "
              + (step + 1)
              + ": the batch has no target tokens (every loss mask is 0);"
              + " check the templates' targets and data.max_length");
    }
  }

  /** Loss weights: the mask divided by the step's total target tokens. */
  static float[] weights(float[] mask, long totalTargets) {
    float[] w = new float[mask.length];
    for (int i = 0; i < mask.length; i++) w[i] = (float) (mask[i] / (double) totalTargets);
    return w;
  }
}
