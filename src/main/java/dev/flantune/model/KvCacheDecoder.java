package dev.flantune.model;

import dev.flantune.checkpoint.Gpt2Weights;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.api.ops.impl.transforms.floating.RSqrt;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Incremental GPT-2 forward for one sequence with a key/value cache: the prompt goes through in one
 * pass ({@link #append} with many tokens), then each new token costs one position instead of the
 * whole sequence. Plain ND4J array ops on the model's live weights, no SameDiff graph: the graph's
 * session bookkeeping would dominate a one-token step.
 *
 * <p>Shape letters as in {@link Gpt2Graph}: T new positions, S = cached positions after the step, P
 * = n_positions (cache capacity), C, H, D = C/H, F inner size, V vocabulary.
 *
 * <p>It computes what the graph computes (hand-built LayerNorm with eps, tanh GELU, Conv1D weights
 * y = x·W + b), so its logits equal {@link CausalLm#logits} of the full sequence to float rounding;
 * a test holds it to that at every step. The weights are read when the decoder is made: after the
 * model is trained further, make a new decoder.
 */
public final class KvCacheDecoder implements Decoder {
  private final Gpt2Config config;
  private final Layer[] layers;
  private final INDArray wte; // [V, C]
  private final INDArray wpe; // [P, C]
  private final INDArray lnFW, lnFB; // [C]
  private final INDArray head; // [V, C]
  private final INDArray[] keys, values; // per layer [H, P, D]
  private final double attnScale;
  private int length; // S: positions already in the cache

  /** One transformer block's weights, HF Conv1D layout. */
  private record Layer(
      INDArray ln1W,
      INDArray ln1B,
      INDArray attnW,
      INDArray attnB,
      INDArray projW,
      INDArray projB,
      INDArray ln2W,
      INDArray ln2B,
      INDArray fcW,
      INDArray fcB,
      INDArray mlpProjW,
      INDArray mlpProjB) {}

  public KvCacheDecoder(CausalLm model) {
    this.config = model.config();
    Gpt2Config c = config;
    this.wte = model.parameter(Gpt2Weights.WTE);
    this.wpe = model.parameter(Gpt2Weights.WPE);
    this.lnFW = model.parameter(Gpt2Weights.LN_F_W);
    this.lnFB = model.parameter(Gpt2Weights.LN_F_B);
    this.head = model.parameter(c.tied() ? Gpt2Weights.WTE : Gpt2Weights.LM_HEAD);
    this.layers = new Layer[c.nLayer()];
    this.keys = new INDArray[c.nLayer()];
    this.values = new INDArray[c.nLayer()];
    for (int i = 0; i < c.nLayer(); i++) {
      layers[i] =
          new Layer(
              p(model, i, "ln_1.weight"), p(model, i, "ln_1.bias"),
              p(model, i, "attn.c_attn.weight"), p(model, i, "attn.c_attn.bias"),
              p(model, i, "attn.c_proj.weight"), p(model, i, "attn.c_proj.bias"),
              p(model, i, "ln_2.weight"), p(model, i, "ln_2.bias"),
              p(model, i, "mlp.c_fc.weight"), p(model, i, "mlp.c_fc.bias"),
              p(model, i, "mlp.c_proj.weight"), p(model, i, "mlp.c_proj.bias"));
      keys[i] = Nd4j.create(DataType.FLOAT, c.nHead(), c.nPositions(), c.headSize());
      values[i] = Nd4j.create(DataType.FLOAT, c.nHead(), c.nPositions(), c.headSize());
    }
    this.attnScale = 1.0 / Math.sqrt(c.headSize());
  }

  private static INDArray p(CausalLm model, int layer, String suffix) {
    return model.parameter(Gpt2Weights.layer(layer, suffix));
  }

  @Override
  public Gpt2Config config() {
    return config;
  }

  /** Positions already in the cache. */
  @Override
  public int length() {
    return length;
  }

  /** Positions still free; {@link #append} takes at most this many tokens. */
  @Override
  public int remaining() {
    return config.nPositions() - length;
  }

  /** Forgets the cached sequence (the arrays are kept for the next one). */
  @Override
  public void reset() {
    length = 0;
  }

  /** Feeds tokens at the next positions and returns the logits [V] that follow the last one. */
  @Override
  public float[] append(int... tokens) {
    INDArray x = forward(tokens);
    return logits(x.getRow(x.rows() - 1, true)).toFloatVector();
  }

  /** Feeds tokens and returns the logits [T, V] after every one of them (for tests and scoring). */
  public INDArray appendAll(int... tokens) {
    return logits(forward(tokens));
  }

  /** The final hidden states [T, C] of the new tokens, after their keys and values are cached. */
  private INDArray forward(int[] tokens) {
    int t = tokens.length;
    Decoder.checkAppend(tokens, length, config);
    INDArray x =
        wte.getRows(tokens) // [T, C] (a copy)
            .addi(wpe.get(NDArrayIndex.interval(length, length + t), NDArrayIndex.all()));
    for (int i = 0; i < layers.length; i++) {
      Layer l = layers[i];
      x.addi(attention(i, layerNorm(x, l.ln1W, l.ln1B), t));
      INDArray u = linear(layerNorm(x, l.ln2W, l.ln2B), l.fcW, l.fcB); // [T, F]
      x.addi(linear(geluNew(u), l.mlpProjW, l.mlpProjB));
    }
    length += t;
    return x;
  }

  /**
   * Causal self-attention of T new positions over the S = length + T cached ones; h [T, C] → [T,
   * C].
   */
  private INDArray attention(int layer, INDArray h, int t) {
    Layer l = layers[layer];
    int c = config.nEmbd(), nh = config.nHead(), d = config.headSize();
    int s = length + t;
    INDArray qkv = linear(h, l.attnW, l.attnB); // [T, 3C]
    INDArray q = heads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(0, c)), t); // [H, T, D]
    INDArray k = heads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(c, 2 * c)), t);
    INDArray v = heads(qkv.get(NDArrayIndex.all(), NDArrayIndex.interval(2 * c, 3 * c)), t);
    keys[layer]
        .get(NDArrayIndex.all(), NDArrayIndex.interval(length, s), NDArrayIndex.all())
        .assign(k);
    values[layer]
        .get(NDArrayIndex.all(), NDArrayIndex.interval(length, s), NDArrayIndex.all())
        .assign(v);
    INDArray kAll =
        keys[layer].get(
            NDArrayIndex.all(), NDArrayIndex.interval(0, s), NDArrayIndex.all()); // [H, S, D]
    INDArray vAll =
        values[layer].get(NDArrayIndex.all(), NDArrayIndex.interval(0, s), NDArrayIndex.all());
    INDArray scores = Nd4j.matmul(q, kAll, false, true, false).muli(attnScale); // [H, T, S]
    if (t > 1) scores.addi(causalBias(t, s).reshape(1, t, s).broadcast(nh, t, s));
    Nd4j.exec(new SoftMax(scores, scores, 2));
    INDArray y = Nd4j.matmul(scores, vAll); // [H, T, D]
    y = y.permute(1, 0, 2).dup('c').reshape(t, (long) nh * d); // [T, C]
    return linear(y, l.projW, l.projB);
  }

  /** [T, C] → [H, T, D] (c-order copy). */
  private INDArray heads(INDArray x, int t) {
    return x.dup('c').reshape(t, config.nHead(), config.headSize()).permute(1, 0, 2).dup('c');
  }

  /** Additive bias [T, S]: new query j (absolute position length + j) sees keys 0..length + j. */
  private INDArray causalBias(int t, int s) {
    float[] bias = new float[t * s];
    for (int j = 0; j < t; j++) {
      for (int key = length + j + 1; key < s; key++) bias[j * s + key] = Gpt2Graph.MASKED;
    }
    return Nd4j.createFromArray(bias).reshape(t, s);
  }

  /** x·W + b with HF's Conv1D layout W [in, out]; x [T, in] → [T, out]. */
  private static INDArray linear(INDArray x, INDArray w, INDArray b) {
    INDArray out = Nd4j.create(DataType.FLOAT, x.rows(), w.columns());
    Nd4j.gemm(x, w, out, false, false, 1.0, 0.0);
    return out.addiRowVector(b);
  }

  /**
   * GPT-2's LayerNorm over the last axis: (x − μ)·rsqrt(var + eps)·g + b with the biased variance.
   */
  private INDArray layerNorm(INDArray x, INDArray g, INDArray b) {
    INDArray centered = x.subColumnVector(x.mean(true, 1));
    INDArray var = centered.mul(centered).mean(true, 1);
    INDArray inv = var.addi(config.layerNormEpsilon());
    Nd4j.exec(new RSqrt(inv, inv)); // in place, the same op as the graph's sd.math.rsqrt
    return centered.muliColumnVector(inv).muliRowVector(g).addiRowVector(b);
  }

  /** gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
  private static INDArray geluNew(INDArray x) {
    INDArray inner = x.mul(x).muli(x).muli(0.044715).addi(x).muli(Math.sqrt(2.0 / Math.PI));
    return Transforms.tanh(inner, false).addi(1.0).muli(x).muli(0.5);
  }

  /** Final LayerNorm and the (possibly tied) head; x [T, C] → [T, V]. */
  private INDArray logits(INDArray x) {
    INDArray hf = layerNorm(x, lnFW, lnFB);
    INDArray out = Nd4j.create(DataType.FLOAT, hf.rows(), head.rows());
    Nd4j.gemm(hf, head, out, false, true, 1.0, 0.0);
    return out;
  }
}
