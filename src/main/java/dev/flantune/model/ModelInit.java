package dev.flantune.model;

import dev.flantune.checkpoint.Tensor;
import dev.flantune.model.ParamTable.Role;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random initialization for any family: matrices ~ N(0, 0.02), the projections that write into the
 * residual stream (attention output, MLP down) ~ N(0, 0.02/√(2·L)) as in the GPT-2 paper, biases 0,
 * norm gains 1. Deterministic for a seed, one random stream per tensor in checkpoint order,
 * independent of any global RNG.
 */
public final class ModelInit {
  private ModelInit() {}

  public static Map<String, Tensor> randomWeights(ModelConfig c, long seed) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    generate(c, dev.flantune.model.family.Family.tableOf(c), seed, out::put);
    return out;
  }

  /**
   * Generates the weights one tensor at a time, in checkpoint order, handing each to {@code sink}.
   */
  public static void generate(
      ModelConfig c,
      ParamTable table,
      long seed,
      java.util.function.BiConsumer<String, Tensor> sink) {
    SplittableRandom root = new SplittableRandom(seed);
    double residualStd = 0.02 / Math.sqrt(2.0 * c.nLayer());
    for (ParamTable.Entry e : table.entries()) {
      long[] shape = e.shape();
      float[] data = new float[(int) Tensor.numel(shape)];
      SplittableRandom rng = root.split(); // one stream per tensor, in checkpoint order
      Role r = e.role();
      if (shape.length >= 2) {
        double std = r == Role.O || r == Role.DOWN ? residualStd : 0.02;
        for (int i = 0; i < data.length; i++) data[i] = (float) (gaussian(rng) * std);
      } else if (r == Role.ATTN_NORM || r == Role.MLP_NORM || r == Role.FINAL_NORM) {
        java.util.Arrays.fill(data, 1f);
      }
      sink.accept(e.name(), Tensor.ofFloats(shape, data));
    }
  }

  /** A standard normal sample (Box–Muller; SplittableRandom has no nextGaussian in Java 17). */
  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble(); // (0, 1]
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
