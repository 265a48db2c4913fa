package dev.flantune.model;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A decoder-only transformer described by data, whatever its family: sizes, norm kind, position
 * scheme, MLP kind, which projections carry biases, tied head, weight layout. Both engines and the
 * decoder read only this; a family ({@link dev.flantune.model.family.Family}) maps a Hugging Face
 * {@code config.json} onto it.
 *
 * <p>Shape letters: V vocabulary, P positions (context), C hidden size, L layers, H query heads, KV
 * key/value heads (H = KV: multi-head; KV = 1: multi-query; else grouped), D head size (H·D may
 * differ from C), F MLP width.
 *
 * @param json the {@code config.json} this came from, written back unchanged on save (never
 *     modified)
 */
public record ModelConfig(
    String modelType,
    int vocabSize,
    int nPositions,
    int nEmbd,
    int nLayer,
    int nHead,
    int nKvHead,
    int headSize,
    int innerSize,
    Norm norm,
    double normEps,
    Mlp mlp,
    Rope rope,
    boolean qkvBias,
    boolean outBias,
    boolean mlpBias,
    boolean tied,
    Layout layout,
    Integer bosTokenId,
    Integer eosTokenId,
    ObjectNode json) {

  /** LayerNorm (mean and variance, gain and bias) or RMSNorm (root mean square, gain only). */
  public enum Norm {
    LAYER_NORM,
    RMS_NORM
  }

  /** GELU (tanh form) between two projections, or SwiGLU: down(silu(gate(x)) ⊙ up(x)). */
  public enum Mlp {
    GELU_TANH,
    SWIGLU
  }

  /**
   * How linear weights are stored: GPT-2's Conv1D [in, out] with one fused q|k|v matrix, or
   * torch.nn.Linear's [out, in] with separate projections.
   */
  public enum Layout {
    CONV1D,
    LINEAR
  }

  /** Rotary position embedding (rotate-half convention) on q and k. */
  public record Rope(double theta, Scaling scaling) {
    /** inv_freq_i = θ^(−2i/D) for i < D/2, then scaled as {@link #scaling} says. */
    public double[] inverseFrequencies(int d) {
      int half = d / 2;
      double[] f = new double[half];
      for (int i = 0; i < half; i++) f[i] = 1.0 / Math.pow(theta, (2.0 * i) / d);
      Scaling s = scaling;
      switch (s.type()) {
        case "linear" -> {
          for (int i = 0; i < half; i++) f[i] /= s.factor();
        }
        case "llama3" -> {
          double lowWavelen = s.originalMaxPositions() / s.lowFreqFactor();
          double highWavelen = s.originalMaxPositions() / s.highFreqFactor();
          for (int i = 0; i < half; i++) {
            double wavelen = 2 * Math.PI / f[i];
            if (wavelen > lowWavelen) {
              f[i] /= s.factor();
            } else if (wavelen >= highWavelen) { // between: blend scaled and unscaled
              double smooth =
                  (s.originalMaxPositions() / wavelen - s.lowFreqFactor())
                      / (s.highFreqFactor() - s.lowFreqFactor());
              f[i] = (1 - smooth) * f[i] / s.factor() + smooth * f[i];
            }
          }
        }
        default -> {}
      }
      return f;
    }
  }

  /** RoPE frequency scaling: none, linear (positions / factor) or Llama 3's per-frequency blend. */
  public record Scaling(
      String type,
      double factor,
      double lowFreqFactor,
      double highFreqFactor,
      int originalMaxPositions) {
    public static final Scaling NONE = new Scaling("default", 1, 0, 0, 0);
  }

  /** Learned absolute positions (GPT-2) rather than RoPE. */
  public boolean learnedPositions() {
    return rope == null;
  }

  /** Query heads per key/value head. */
  public int groupSize() {
    return nHead / nKvHead;
  }

  /** Width of q|k|v together: (H + 2·KV)·D. */
  public int qkvWidth() {
    return (nHead + 2 * nKvHead) * headSize;
  }

  /** Width of the attention output before its projection: H·D. */
  public int attnWidth() {
    return nHead * headSize;
  }

  /** Width of the MLP's first projection: F, or 2F for SwiGLU's gate|up. */
  public int upWidth() {
    return mlp == Mlp.SWIGLU ? 2 * innerSize : innerSize;
  }
}
