package dev.flantune.model;

import dev.flantune.checkpoint.Gpt2Weights;
import dev.flantune.checkpoint.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * GPT-2's random initialization: weights ~ N(0, 0.02), the residual projections (attn.c_proj,
 * mlp.c_proj) ~ N(0, 0.02/√(2·n_layer)) as in the GPT-2 paper, biases 0, LayerNorm gains 1.
 * Deterministic for a seed, independent of any global RNG.
 */
public final class Gpt2Init {
  private Gpt2Init() {}

  public static Map<String, Tensor> randomWeights(Gpt2Config c, long seed) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    generate(c, seed, out::put);
    return out;
  }

  /**
   * Generates the weights one tensor at a time, in checkpoint order, handing each to {@code sink}.
   */
  public static void generate(
      Gpt2Config c, long seed, java.util.function.BiConsumer<String, Tensor> sink) {
    SplittableRandom root = new SplittableRandom(seed);
    double residualStd = 0.02 / Math.sqrt(2.0 * c.nLayer());
    for (Map.Entry<String, long[]> e : Gpt2Weights.shapes(c).entrySet()) {
      String name = e.getKey();
      long[] shape = e.getValue();
      float[] data = new float[(int) Tensor.numel(shape)];
      SplittableRandom rng = root.split(); // one stream per tensor, in checkpoint order
      if (shape.length >= 2) {
        double std = name.endsWith("c_proj.weight") ? residualStd : 0.02;
        for (int i = 0; i < data.length; i++) data[i] = (float) (gaussian(rng) * std);
      } else if (name.contains("ln_") && name.endsWith(".weight")) {
        java.util.Arrays.fill(data, 1f);
      }
      sink.accept(name, Tensor.ofFloats(shape, data));
    }
  }

  /** A standard normal sample (Box–Muller; SplittableRandom has no nextGaussian in Java 17). */
  private static double gaussian(SplittableRandom rng) {
    double u1 = 1.0 - rng.nextDouble(); // (0, 1]
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
}
