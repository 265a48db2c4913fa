package dev.flantune.model;

import dev.flantune.data.Batch;
import dev.flantune.model.ParamTable.Role;
import dev.flantune.model.lora.LoraAdapter;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.array.SingleThreadArrayHolder;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Emits a {@link ModelConfig} as a SameDiff graph: the graph engine ({@link GraphGradientEngine},
 * automatic differentiation on CUDA) and the second implementation the CPU engine is checked
 * against. Same components, same order, as {@link dev.flantune.model.cpu.CpuEngine}.
 *
 * <p>Shape letters: B rows, T positions, N = B·T, C hidden, H heads, KV key/value heads, G = H/KV,
 * D head size, F MLP width, V vocabulary, M scored rows.
 *
 * <p>Built by hand where ND4J's built-ins differ from the reference: LayerNorm ({@code
 * sd.nn.layerNorm} ignores eps), GELU ({@code sd.nn.gelu} is not the tanh form), the embedding
 * gather and the sparse cross-entropy (wrong gradients, see {@link FixedOps}). RoPE's cos/sin come
 * in as placeholders computed on the host in double precision.
 */
public final class ModelGraph {
  // Placeholders.
  public static final String INPUT_IDS = "input_ids"; // [B, T] int32
  public static final String POSITION_IDS = "position_ids"; // [B, T] int32
  public static final String ATTN_BIAS = "attn_bias"; // [B, 1, T, T] additive: 0 or MASKED
  public static final String ROPE_COS = "rope_cos"; // [B, T, 1, D/2]
  public static final String ROPE_SIN = "rope_sin"; // [B, T, 1, D/2]
  public static final String HEAD_ROWS =
      "head_rows"; // [M] int32: rows of N whose next token is scored
  public static final String LABELS = "labels"; // [M] int32
  public static final String LOSS_WEIGHTS = "loss_weights"; // [M] float
  // Outputs.
  public static final String LOGITS = "logits"; // [M, V]
  public static final String TOKEN_NLL = "token_nll"; // [M] −ln P(label)
  public static final String ARGMAX = "argmax"; // [M] most likely next token
  public static final String LOSS = "loss"; // scalar Σ token_nll · loss_weights

  /** Additive attention bias for a masked (query, key) pair; exp(MASKED − max) is exactly 0. */
  public static final float MASKED = -1e9f;

  private ModelGraph() {}

  /**
   * A graph holding {@code weights} (names → arrays, fp32) as trainable variables. The arrays are
   * used as they are, not copied, even when they are views (see {@link FlatParameters}).
   */
  public static SameDiff build(ModelConfig c, ParamTable table, Map<String, INDArray> weights) {
    return build(c, table, weights, null);
  }

  /**
   * As {@link #build(ModelConfig, ParamTable, Map)}; with a LoRA {@code adapter} the base weights
   * are constants (no gradient) and the adapter's A and B matrices the trainable variables, each
   * targeted projection computing x·W + s·(x·Aᵀ)·Bᵀ.
   */
  public static SameDiff build(
      ModelConfig c, ParamTable table, Map<String, INDArray> weights, LoraAdapter adapter) {
    SameDiff sd = SameDiff.create();
    // Trap: the default ThreadSafeArrayHolder dup()s views, which would detach the variables from
    // the flat parameter buffer the optimizer updates. A model is trained from one thread.
    sd.setVariablesArrays(new SingleThreadArrayHolder());
    sd.setConstantArrays(new SingleThreadArrayHolder());
    for (Map.Entry<String, long[]> e : table.shapes().entrySet()) {
      INDArray w = weights.get(e.getKey());
      if (w == null) throw new IllegalArgumentException("missing weight " + e.getKey());
      // Trainable only in a full fine-tune of an fp32 model; a two-byte base is always frozen.
      if (adapter == null && w.dataType() == DataType.FLOAT) sd.var(e.getKey(), w);
      else sd.constant(e.getKey(), w);
    }
    Map<ParamTable.Slot, LoraAdapter.Module> lora = new java.util.HashMap<>();
    if (adapter != null) {
      for (LoraAdapter.Module m : adapter.modules()) {
        sd.var(m.aName(), adapter.a(m));
        sd.var(m.bName(), adapter.b(m));
        lora.put(m.slot(), m);
      }
    }
    return new Builder(sd, c, table, lora, adapter == null ? 0 : adapter.spec().scaling()).emit();
  }

  /** The graph of one config: each component once, wired as the CPU engine wires it. */
  private static final class Builder {
    final SameDiff sd;
    final ModelConfig c;
    final ParamTable table;
    final boolean outIn;
    final Map<ParamTable.Slot, LoraAdapter.Module> lora; // projection → adapter module
    final double loraScale;
    SDVariable bias, cos, sin, b, t; // b, t: [1] long, the batch's own sizes

    Builder(
        SameDiff sd,
        ModelConfig c,
        ParamTable table,
        Map<ParamTable.Slot, LoraAdapter.Module> lora,
        double loraScale) {
      this.sd = sd;
      this.c = c;
      this.table = table;
      this.lora = lora;
      this.loraScale = loraScale;
      this.outIn = c.layout() == ModelConfig.Layout.LINEAR;
    }

    SameDiff emit() {
      SDVariable ids = sd.placeHolder(INPUT_IDS, DataType.INT, -1, -1);
      SDVariable pos = sd.placeHolder(POSITION_IDS, DataType.INT, -1, -1);
      bias = sd.placeHolder(ATTN_BIAS, DataType.FLOAT, -1, 1, -1, -1);
      SDVariable headRows = sd.placeHolder(HEAD_ROWS, DataType.INT, -1);
      SDVariable labels = sd.placeHolder(LABELS, DataType.INT, -1);
      SDVariable lossWeights = sd.placeHolder(LOSS_WEIGHTS, DataType.FLOAT, -1);
      if (!c.learnedPositions()) {
        cos = sd.placeHolder(ROPE_COS, DataType.FLOAT, -1, -1, 1, c.headSize() / 2);
        sin = sd.placeHolder(ROPE_SIN, DataType.FLOAT, -1, -1, 1, c.headSize() / 2);
      }
      // The batch's sizes, so that one graph serves all batch shapes.
      SDVariable bt = sd.shape(ids).castTo(DataType.LONG);
      b = sd.slice(bt, new int[] {0}, 1);
      t = sd.slice(bt, new int[] {1}, 1);

      SDVariable x = FixedOps.embedding(sd, "tok_emb", global(Role.EMBED), sd.reshape(ids, -1));
      if (c.learnedPositions()) {
        x = x.add(FixedOps.embedding(sd, "pos_emb", global(Role.POSITIONS), sd.reshape(pos, -1)));
      }
      for (int l = 0; l < c.nLayer(); l++) {
        SDVariable h = norm(x, l + ".attn_norm", p(Role.ATTN_NORM, l), p(Role.ATTN_NORM_BIAS, l));
        x = x.add(attention(l, h));
        h = norm(x, l + ".mlp_norm", p(Role.MLP_NORM, l), p(Role.MLP_NORM_BIAS, l));
        x = x.add(mlp(l, h));
      }
      SDVariable hf = norm(x, "final_norm", global(Role.FINAL_NORM), global(Role.FINAL_NORM_BIAS));
      // The LM head runs only on the rows whose prediction is scored (target tokens when
      // instruction tuning, often a tenth of the tokens): with a large V the head dominates.
      SDVariable scored = FixedOps.embedding(sd, "head_in", hf, headRows); // [M, C]
      SDVariable head = global(c.tied() ? Role.EMBED : Role.LM_HEAD); // [V, C]
      SDVariable logits = sd.mmul(LOGITS, scored, head, false, true, false); // [M, V]
      SDVariable nll = FixedOps.sparseCrossEntropy(sd, TOKEN_NLL, logits, labels); // [M]
      sd.sum(LOSS, nll.mul(lossWeights));
      sd.argmax(ARGMAX, logits, false, 1);
      sd.setLossVariables(LOSS);
      return sd;
    }

    SDVariable global(Role role) {
      return p(role, -1);
    }

    /**
     * A role's variable in a layer, or null when the model has no such tensor. A base held in two
     * bytes (model_dtype bf16/f16) is widened to fp32 inside the graph, once per tensor: it is
     * stored at half the memory and computed in fp32, as on the CPU engine.
     */
    SDVariable p(Role role, int layer) {
      String name = table.name(role, layer);
      if (name == null) return null;
      SDVariable v = sd.getVariable(name);
      if (v.dataType() == DataType.FLOAT) return v;
      return widened.computeIfAbsent(name, n -> v.castTo(n + ".f32", DataType.FLOAT));
    }

    private final Map<String, SDVariable> widened = new java.util.HashMap<>();

    /** x·W (+ b) in the config's weight layout, plus s·(x·Aᵀ)·Bᵀ where an adapter targets it. */
    SDVariable linear(SDVariable x, Role role, int l, Role biasRole) {
      SDVariable y = sd.mmul(x, p(role, l), false, outIn, false);
      LoraAdapter.Module m = lora.get(new ParamTable.Slot(role, l));
      if (m != null) {
        SDVariable h = sd.mmul(x, sd.getVariable(m.aName()), false, true, false); // [N, r]
        y = y.add(sd.mmul(h, sd.getVariable(m.bName()), false, true, false).mul(loraScale));
      }
      SDVariable bias = p(biasRole, l);
      return bias == null ? y : y.add(bias);
    }

    /**
     * LayerNorm ((x − μ)/√(var + eps)·g + b, biased variance) or RMSNorm (x/√(mean(x²) + eps)·g)
     * over the last axis.
     */
    SDVariable norm(SDVariable x, String name, SDVariable g, SDVariable bias) {
      if (c.norm() == ModelConfig.Norm.RMS_NORM) {
        SDVariable ms = sd.mean(x.mul(x), true, 1);
        return x.mul(sd.math.rsqrt(ms.add(c.normEps()))).mul(g);
      }
      SDVariable centered = x.sub(sd.mean(x, true, 1));
      SDVariable var = sd.mean(centered.mul(centered), true, 1);
      SDVariable y = centered.mul(sd.math.rsqrt(var.add(c.normEps()))).mul(g);
      return bias == null ? y : y.add(bias);
    }

    /** Causal self-attention with grouped key/value heads; h [N, C] → [N, C]. */
    SDVariable attention(int l, SDVariable h) {
      int nH = c.nHead(), nKv = c.nKvHead(), d = c.headSize(), g = c.groupSize();
      SDVariable q, k, v;
      if (outIn) {
        q = linear(h, Role.Q, l, Role.Q_BIAS); // [N, H·D]
        k = linear(h, Role.K, l, Role.K_BIAS); // [N, KV·D]
        v = linear(h, Role.V, l, Role.V_BIAS);
      } else {
        SDVariable[] parts = sd.split(linear(h, Role.QKV, l, Role.QKV_BIAS), 3, 1);
        q = parts[0];
        k = parts[1];
        v = parts[2];
      }
      q = heads(q, nH); // [B, T, H, D]
      k = heads(k, nKv);
      if (cos != null) {
        q = rope(q);
        k = rope(k);
      }
      q = sd.permute(q, 0, 2, 1, 3); // [B, H, T, D]
      k = sd.permute(k, 0, 2, 1, 3); // [B, KV, T, D]
      v = sd.permute(heads(v, nKv), 0, 2, 1, 3);
      // Query head h uses kv head h / G: q as [B, KV, G·T, D] lines up with k and v.
      SDVariable grouped =
          shape(
              b,
              sd.constant(Nd4j.createFromArray((long) nKv)),
              t.mul(sd.constant(Nd4j.createFromArray((long) g))),
              d);
      SDVariable scores =
          sd.mmul(sd.reshape(q, grouped), k, false, true, false).mul(1.0 / Math.sqrt(d));
      scores = sd.reshape(scores, shape(b, sd.constant(Nd4j.createFromArray((long) nH)), t, -1));
      SDVariable att = sd.nn.softmax(scores.add(bias), 3); // [B, H, T, T]
      SDVariable y =
          sd.mmul(
              sd.reshape(
                  att, shape(b, kvConst(), t.mul(sd.constant(Nd4j.createFromArray((long) g))), -1)),
              v); // [B,KV,GT,D]
      y = sd.reshape(y, shape(b, sd.constant(Nd4j.createFromArray((long) nH)), t, d));
      y = sd.reshape(sd.permute(y, 0, 2, 1, 3), -1, nH * d); // [N, H·D]
      return linear(y, Role.O, l, Role.O_BIAS);
    }

    SDVariable kvConst() {
      return sd.constant(Nd4j.createFromArray((long) c.nKvHead()));
    }

    /** A shape vector [b, second, third, last]; last may be −1. */
    SDVariable shape(SDVariable first, SDVariable second, SDVariable third, long last) {
      return sd.concat(0, first, second, third, sd.constant(Nd4j.createFromArray(last)));
    }

    /** [N, cnt·D] → [B, T, cnt, D]. */
    SDVariable heads(SDVariable x, int cnt) {
      SDVariable s =
          sd.concat(0, b, t, sd.constant(Nd4j.createFromArray((long) cnt, (long) c.headSize())));
      return sd.reshape(x, s);
    }

    /** Rotate-half RoPE on [B, T, cnt, D] with cos/sin [B, T, 1, D/2]. */
    SDVariable rope(SDVariable x) {
      SDVariable[] halves = sd.split(x, 2, 3);
      SDVariable x1 = halves[0], x2 = halves[1];
      return sd.concat(3, x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin)));
    }

    SDVariable mlp(int l, SDVariable h) {
      if (c.mlp() == ModelConfig.Mlp.SWIGLU) {
        SDVariable gate = linear(h, Role.GATE, l, Role.GATE_BIAS); // [N, F]
        SDVariable up = linear(h, Role.UP, l, Role.UP_BIAS);
        SDVariable act = gate.mul(sd.nn.sigmoid(gate)).mul(up);
        return linear(act, Role.DOWN, l, Role.DOWN_BIAS);
      }
      SDVariable u = linear(h, Role.UP, l, Role.UP_BIAS); // [N, F]
      return linear(geluTanh(u), Role.DOWN, l, Role.DOWN_BIAS);
    }

    /** 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); x³ as x·x·x (pow's gradient is slow). */
    SDVariable geluTanh(SDVariable x) {
      SDVariable cube = x.mul(x).mul(x);
      SDVariable inner = x.add(cube.mul(0.044715)).mul(Math.sqrt(2.0 / Math.PI));
      return x.mul(0.5).mul(sd.math.tanh(inner).add(1.0));
    }
  }

  /**
   * The placeholder arrays for a batch. The head scores {@code rows} (indices into the flattened
   * batch); labels and loss weights are taken at those rows ({@code lossWeights} may be null:
   * zero). {@code attentionBias} is [B, 1, T, T].
   */
  static Map<String, INDArray> placeholders(
      ModelConfig c, Batch b, int[] rows, float[] lossWeights, INDArray attentionBias) {
    int[] labels = new int[rows.length];
    float[] weights = new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      labels[i] = b.labels()[rows[i]];
      if (lossWeights != null) weights[i] = lossWeights[rows[i]];
    }
    Map<String, INDArray> ph = new LinkedHashMap<>();
    ph.put(INPUT_IDS, Nd4j.createFromArray(b.inputIds()).reshape(b.rows(), b.length()));
    ph.put(POSITION_IDS, Nd4j.createFromArray(b.positionIds()).reshape(b.rows(), b.length()));
    ph.put(ATTN_BIAS, attentionBias);
    ph.put(HEAD_ROWS, Nd4j.createFromArray(rows));
    ph.put(LABELS, Nd4j.createFromArray(labels));
    ph.put(LOSS_WEIGHTS, Nd4j.createFromArray(weights));
    if (!c.learnedPositions()) {
      double[] f = c.rope().inverseFrequencies(c.headSize());
      int n = b.positionIds().length, half = f.length;
      float[] cs = new float[n * half], sn = new float[n * half];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < half; j++) {
          double a = b.positionIds()[i] * f[j];
          cs[i * half + j] = (float) Math.cos(a);
          sn[i * half + j] = (float) Math.sin(a);
        }
      }
      ph.put(ROPE_COS, Nd4j.createFromArray(cs).reshape(b.rows(), b.length(), 1, half));
      ph.put(ROPE_SIN, Nd4j.createFromArray(sn).reshape(b.rows(), b.length(), 1, half));
    }
    return ph;
  }
}
