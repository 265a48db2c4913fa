package dev.flantune.model.cpu;

import dev.flantune.data.Batch;
import dev.flantune.model.Decoder;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.cpu.Kernels.Storage;
import java.nio.FloatBuffer;

/**
 * One sequence with a key/value cache on the CPU engine's live weights: the prompt goes through the
 * engine's forward pass in one go (its rotated keys and values captured per layer), then each new
 * token is one position, entirely in Java: at one row every product is a matrix-vector product,
 * where an ND4J call costs ~0.1 ms of dispatch and the arithmetic a few µs. The cache holds KV
 * heads (not H), grows with the sequence, and never exceeds the model's context.
 */
final class CpuDecoder implements Decoder {
  private final CpuEngine engine;
  private final ModelConfig cfg;
  private final int nC, nH, nKv, nD, nF, nL, group;
  private final float[][] keys, values; // per layer [KV, capacity, D]
  private int capacity;
  private final Storage lnf, out; // the last position's final hidden state [C]; its logits [V]
  private int length;

  CpuDecoder(CpuEngine engine) {
    this.engine = engine;
    cfg = engine.config();
    nC = cfg.nEmbd();
    nH = cfg.nHead();
    nKv = cfg.nKvHead();
    nD = cfg.headSize();
    nF = cfg.innerSize();
    nL = cfg.nLayer();
    group = cfg.groupSize();
    keys = new float[nL][];
    values = new float[nL][];
    lnf = new Storage(nC);
    out = new Storage(cfg.vocabSize());
  }

  @Override
  public ModelConfig config() {
    return cfg;
  }

  @Override
  public int length() {
    return length;
  }

  @Override
  public int remaining() {
    return cfg.nPositions() - length;
  }

  @Override
  public void reset() {
    length = 0;
  }

  @Override
  public float[] append(int... tokens) {
    Decoder.checkAppend(tokens, length, cfg);
    ensureCapacity(length + tokens.length);
    if (length == 0 && tokens.length > 1) return prefill(tokens);
    float[] logits = null;
    for (int id : tokens) logits = step(id);
    return logits;
  }

  /** Grows the cache (doubling, capped at the context) to hold {@code needed} positions. */
  void ensureCapacity(int needed) {
    if (needed <= capacity) return;
    int cap = Math.min(cfg.nPositions(), Math.max(needed, Math.max(64, 2 * capacity)));
    for (int l = 0; l < nL; l++) {
      keys[l] = regrow(keys[l], cap);
      values[l] = regrow(values[l], cap);
    }
    capacity = cap;
  }

  private float[] regrow(float[] old, int cap) {
    float[] fresh = new float[nKv * cap * nD];
    if (old != null) {
      for (int h = 0; h < nKv; h++) {
        System.arraycopy(old, h * capacity * nD, fresh, h * cap * nD, length * nD);
      }
    }
    return fresh;
  }

  /** The whole prompt in one forward pass; its keys and values land in the cache. */
  private float[] prefill(int[] tokens) {
    int n = tokens.length;
    int[] pos = new int[n], seg = new int[n];
    for (int i = 0; i < n; i++) {
      pos[i] = i;
      seg[i] = 1;
    }
    FloatBuffer hf =
        engine.prefill(new Batch(1, n, tokens, pos, seg, new int[n], new float[n]), this);
    length = n;
    lnf.fb.put(0, hf, (n - 1) * nC, nC);
    float[] hRow = new float[nC];
    lnf.fb.get(0, hRow, 0, nC);
    return engine.headRow(hRow, lnf, out);
  }

  /**
   * Copies layer {@code l}'s keys and values from the forward pass's q|k|v [T, W] (one row,
   * token-major) into the cache [KV, capacity, D].
   */
  void store(int l, FloatBuffer qkv, int t) {
    int w = (nH + 2 * nKv) * nD;
    for (int pos = 0; pos < t; pos++) {
      for (int h = 0; h < nKv; h++) {
        int at = h * capacity * nD + pos * nD;
        qkv.get(pos * w + (nH + h) * nD, keys[l], at, nD);
        qkv.get(pos * w + (nH + nKv + h) * nD, values[l], at, nD);
      }
    }
  }

  /** One token at position {@code length}. */
  private float[] step(int id) {
    int p = length;
    FloatBuffer pw = engine.weights();
    float[] x = new float[nC], h = new float[nC], qkv = new float[cfg.qkvWidth()];
    float[] y = new float[nH * nD], u = new float[cfg.upWidth()], act = new float[nF];
    float[] scores = new float[p + 1];
    engine.embedRow(id, p, x);
    float scale = (float) (1 / Math.sqrt(nD));
    Rope rope = engine.rope();
    for (int l = 0; l < nL; l++) {
      CpuEngine.Block w = engine.block(l);
      normRow(w.attnNorm(), x, h, pw);
      w.qkv().row(h, qkv, false, pw);
      if (rope != null) {
        for (int head = 0; head < nH + nKv; head++) rope.rotate(qkv, head * nD, p, false);
      }
      float[] k = keys[l], v = values[l];
      for (int g = 0; g < nKv; g++) {
        System.arraycopy(qkv, (nH + g) * nD, k, (g * capacity + p) * nD, nD);
        System.arraycopy(qkv, (nH + nKv + g) * nD, v, (g * capacity + p) * nD, nD);
      }
      for (int head = 0; head < nH; head++) {
        int base = (head / group) * capacity * nD, q = head * nD;
        float max = Float.NEGATIVE_INFINITY;
        for (int s = 0; s <= p; s++) {
          scores[s] = Kernels.dot(qkv, q, k, base + s * nD, nD) * scale;
          max = Math.max(max, scores[s]);
        }
        float sum = Simd.expShifted(scores, 0, p + 1, max);
        java.util.Arrays.fill(y, q, q + nD, 0f);
        for (int s = 0; s <= p; s++) {
          float wgt = scores[s] / sum;
          for (int d = 0; d < nD; d++) y[q + d] += wgt * v[base + s * nD + d];
        }
      }
      w.out().row(y, x, true, pw); // x = x + y·Wo + b: the residual
      normRow(w.mlpNorm(), x, h, pw);
      w.up().row(h, u, false, pw);
      if (cfg.mlp() == ModelConfig.Mlp.SWIGLU) {
        for (int f = 0; f < nF; f++) act[f] = u[f] * Activation.sigmoid(u[f]) * u[nF + f];
      } else {
        for (int f = 0; f < nF; f++) act[f] = 0.5f * u[f] * (1 + Activation.geluTanh(u[f]));
      }
      w.down().row(act, x, true, pw);
    }
    normRow(engine.finalNorm(), x, h, pw);
    length++;
    return engine.headRow(h, lnf, out);
  }

  // The cache as {@link CpuBatchDecoder} reads and extends it: layer l's keys and values are
  // [KV, capacity, D], the position p of KV head g at (g·capacity + p)·D.

  CpuEngine engine() {
    return engine;
  }

  float[] keys(int l) {
    return keys[l];
  }

  float[] values(int l) {
    return values[l];
  }

  int capacity() {
    return capacity;
  }

  /** Counts the {@code n} positions a batched pass has just written into the cache. */
  void advance(int n) {
    length += n;
  }

  private static void normRow(Norm norm, float[] x, float[] out, FloatBuffer pw) {
    norm.row(x, out, norm.g.read(pw), norm.b == null ? null : norm.b.read(pw), null, 0);
  }
}
