package dev.flantune.model;

import dev.flantune.checkpoint.Gpt2Weights;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Builds GPT-2 (GPT2LMHeadModel semantics) as a SameDiff graph.
 *
 * <p>Shape letters: B batch rows, T positions, N = B·T flattened tokens, C = n_embd, H heads, D =
 * C/H head size, F = inner MLP size, V vocabulary, P = n_positions.
 *
 * <p>Built by hand where ND4J's built-ins differ from GPT-2: LayerNorm ({@code sd.nn.layerNorm}
 * ignores eps), GELU ({@code sd.nn.gelu} is not the tanh form), the embedding gather and the sparse
 * cross-entropy (wrong gradients, see {@link FixedOps}).
 */
public final class Gpt2Graph {
  // Placeholders.
  public static final String INPUT_IDS = "input_ids"; // [B, T] int32
  public static final String POSITION_IDS = "position_ids"; // [B, T] int32
  public static final String ATTN_BIAS = "attn_bias"; // [B, 1, T, T] additive: 0 or MASKED
  public static final String HEAD_ROWS =
      "head_rows"; // [M] int32: the rows of N whose next token is scored
  public static final String LABELS = "labels"; // [M] int32
  public static final String LOSS_WEIGHTS = "loss_weights"; // [M] float
  // Outputs.
  public static final String LOGITS = "logits"; // [M, V]
  public static final String TOKEN_NLL = "token_nll"; // [M] −ln P(label)
  public static final String ARGMAX = "argmax"; // [M] most likely next token
  public static final String LOSS = "loss"; // scalar Σ token_nll · loss_weights

  /** Additive attention bias for a masked (query, key) pair; exp(MASKED − max) is exactly 0. */
  public static final float MASKED = -1e9f;

  private Gpt2Graph() {}

  /**
   * A graph holding {@code weights} (HF names → arrays, fp32) as trainable variables. The arrays
   * are used as they are, not copied, even when they are views (see {@link FlatParameters}).
   */
  public static SameDiff build(Gpt2Config c, Map<String, INDArray> weights) {
    SameDiff sd = SameDiff.create();
    // Trap: the default ThreadSafeArrayHolder dup()s views, which would detach the variables from
    // the flat parameter buffer the optimizer updates. A model is trained from one thread.
    sd.setVariablesArrays(new SingleThreadArrayHolder());
    for (Map.Entry<String, long[]> e : Gpt2Weights.shapes(c).entrySet()) {
      INDArray w = weights.get(e.getKey());
      if (w == null) throw new IllegalArgumentException("missing weight " + e.getKey());
      sd.var(e.getKey(), w);
    }
    SDVariable ids = sd.placeHolder(INPUT_IDS, DataType.INT, -1, -1);
    SDVariable pos = sd.placeHolder(POSITION_IDS, DataType.INT, -1, -1);
    SDVariable bias = sd.placeHolder(ATTN_BIAS, DataType.FLOAT, -1, 1, -1, -1);
    SDVariable headRows = sd.placeHolder(HEAD_ROWS, DataType.INT, -1);
    SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1);
    SDVariable lossWeights = sd.placeHolder(LOSS_WEIGHTS, DataType.FLOAT, -1);

    // [B,T,H,D] for splitting heads, computed from the batch's own shape so one graph serves all
    // sizes.
    SDVariable bt = sd.shape(ids).castTo(DataType.LONG);
    SDVariable bthd =
        sd.concat(0, bt, sd.constant(Nd4j.createFromArray((long) c.nHead(), (long) c.headSize())));

    SDVariable tok =
        FixedOps.embedding(sd, "tok_emb", sd.getVariable(Gpt2Weights.WTE), sd.reshape(ids, -1));
    SDVariable posEmb =
        FixedOps.embedding(sd, "pos_emb", sd.getVariable(Gpt2Weights.WPE), sd.reshape(pos, -1));
    SDVariable x = tok.add(posEmb); // [N, C]

    for (int i = 0; i < c.nLayer(); i++) {
      SDVariable h =
          layerNorm(
              sd,
              x,
              i + ".ln_1",
              p(sd, i, "ln_1.weight"),
              p(sd, i, "ln_1.bias"),
              c.layerNormEpsilon());
      x = x.add(attention(sd, c, i, h, bias, bthd));
      h =
          layerNorm(
              sd,
              x,
              i + ".ln_2",
              p(sd, i, "ln_2.weight"),
              p(sd, i, "ln_2.bias"),
              c.layerNormEpsilon());
      x = x.add(mlp(sd, i, h));
    }
    SDVariable hf =
        layerNorm(
            sd,
            x,
            "ln_f",
            sd.getVariable(Gpt2Weights.LN_F_W),
            sd.getVariable(Gpt2Weights.LN_F_B),
            c.layerNormEpsilon());
    // The LM head runs only on the rows whose prediction is scored (target tokens when instruction
    // tuning, often a tenth of the tokens): with V = 50257 the head dominates the step.
    SDVariable scored = FixedOps.embedding(sd, "head_in", hf, headRows); // [M, C]
    SDVariable head = sd.getVariable(c.tied() ? Gpt2Weights.WTE : Gpt2Weights.LM_HEAD); // [V, C]
    SDVariable logits = sd.mmul(LOGITS, scored, head, false, true, false); // [M, V]

    SDVariable nll = FixedOps.sparseCrossEntropy(sd, TOKEN_NLL, logits, labels); // [M]
    sd.sum(LOSS, nll.mul(lossWeights));
    sd.argmax(ARGMAX, logits, false, 1);
    sd.setLossVariables(LOSS);
    return sd;
  }

  private static SDVariable p(SameDiff sd, int layer, String suffix) {
    return sd.getVariable(Gpt2Weights.layer(layer, suffix));
  }

  /** Causal self-attention; h [N, C] → [N, C]. */
  private static SDVariable attention(
      SameDiff sd, Gpt2Config c, int i, SDVariable h, SDVariable bias, SDVariable bthd) {
    SDVariable qkv =
        sd.mmul(h, p(sd, i, "attn.c_attn.weight")).add(p(sd, i, "attn.c_attn.bias")); // [N, 3C]
    SDVariable[] parts = sd.split(qkv, 3, 1); // 3 × [N, C]
    SDVariable q = heads(sd, parts[0], bthd); // [B, H, T, D]
    SDVariable k = heads(sd, parts[1], bthd);
    SDVariable v = heads(sd, parts[2], bthd);
    SDVariable scores =
        sd.mmul(q, k, false, true, false).mul(1.0 / Math.sqrt(c.headSize())).add(bias); // [B,H,T,T]
    SDVariable att = sd.nn.softmax(scores, 3);
    SDVariable y = sd.mmul(att, v); // [B, H, T, D]
    y = sd.reshape(sd.permute(y, 0, 2, 1, 3), -1, c.nEmbd()); // [N, C]
    return sd.mmul(y, p(sd, i, "attn.c_proj.weight")).add(p(sd, i, "attn.c_proj.bias"));
  }

  /** [N, C] → [B, H, T, D]. */
  private static SDVariable heads(SameDiff sd, SDVariable x, SDVariable bthd) {
    return sd.permute(sd.reshape(x, bthd), 0, 2, 1, 3);
  }

  private static SDVariable mlp(SameDiff sd, int i, SDVariable h) {
    SDVariable u = sd.mmul(h, p(sd, i, "mlp.c_fc.weight")).add(p(sd, i, "mlp.c_fc.bias")); // [N, F]
    return sd.mmul(geluNew(sd, u), p(sd, i, "mlp.c_proj.weight")).add(p(sd, i, "mlp.c_proj.bias"));
  }

  /** GPT-2's LayerNorm over the last axis: (x − μ) / sqrt(var + eps) · g + b, biased variance. */
  private static SDVariable layerNorm(
      SameDiff sd, SDVariable x, String name, SDVariable g, SDVariable b, double eps) {
    SDVariable centered = x.sub(sd.mean(x, true, 1));
    SDVariable var = sd.mean(centered.mul(centered), true, 1);
    return centered.mul(sd.math.rsqrt(var.add(eps))).mul(g).add(b);
  }

  /** gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); x³ as x·x·x (pow's gradient is slow). */
  private static SDVariable geluNew(SameDiff sd, SDVariable x) {
    SDVariable cube = x.mul(x).mul(x);
    SDVariable inner = x.add(cube.mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
    return x.mul(0.5).mul(sd.math.tanh(inner).add(1.0));
  }
}
