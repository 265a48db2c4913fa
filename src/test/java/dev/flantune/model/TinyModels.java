package dev.flantune.model;

import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
import java.util.Map;
import java.util.SplittableRandom;

/** Small random GPT-2 models and helpers shared by decoding tests. */
public final class TinyModels {
  private TinyModels() {}

  /**
   * A random model whose logits are far from uniform: GPT-2's init (std 0.02) gives logits of size
   * 1e-2, where a tolerance of 1e-4 would hide a wrong mask or head split. Weights are scaled to
   * std 0.2 and biases and LayerNorm parameters perturbed, as in the parity fixtures.
   */
  public static CausalLm random(dev.flantune.model.ModelConfig c, long seed) {
    Map<String, Tensor> w = dev.flantune.model.ModelInit.randomWeights(c, seed);
    SplittableRandom rng = new SplittableRandom(seed ^ 0x5DEECE66DL);
    for (Map.Entry<String, Tensor> e : w.entrySet()) {
      float[] d = e.getValue().data();
      boolean matrix = e.getValue().shape().length >= 2;
      for (int i = 0; i < d.length; i++) {
        d[i] = matrix ? d[i] * 10f : d[i] + (float) ((rng.nextDouble() - 0.5) * 0.2);
      }
    }
    return CausalLm.fromTensors(c, w, null);
  }

  /**
   * The decoding tests' small shapes: GPT-2, or the Llama family with H = 6 query heads over 2 KV
   * heads (llama) or 1 with q/k/v biases (qwen2).
   */
  public static ModelConfig decoderConfig(String arch) {
    return switch (arch) {
      case "gpt2" -> dev.flantune.model.family.Gpt2Family.of(50, 40, 32, 2, 4, 49);
      case "llama", "qwen2" ->
          dev.flantune.model.family.LlamaFamily.of(
              arch, 50, 40, 48, 2, 6, arch.equals("qwen2") ? 1 : 2, 40, 500.0, false, null, 49);
      default -> throw new IllegalArgumentException(arch);
    };
  }

  /** One row holding {@code ids} at positions 0..T-1 (labels and loss mask unused). */
  public static Batch row(int[] ids) {
    int t = ids.length;
    int[] pos = new int[t], seg = new int[t];
    for (int i = 0; i < t; i++) {
      pos[i] = i;
      seg[i] = 1;
    }
    return new Batch(1, t, ids, pos, seg, new int[t], new float[t]);
  }

  public static int[] randomIds(int n, int vocab, long seed) {
    return new SplittableRandom(seed).ints(n, 0, vocab).toArray();
  }
}
