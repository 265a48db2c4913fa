package dev.flantune.model.cpu;

import dev.flantune.model.BatchDecoder;
import dev.flantune.model.Decoder;
import dev.flantune.model.ModelConfig;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The CPU engine's batched decoding: any number of new tokens for each of M rows in one forward
 * pass, every row a {@link CpuDecoder} with its own key/value cache, length and positions. A step
 * is one token per row; a prefill is each row's whole prompt, all rows together (long prompts in
 * chunks of at most 512 tokens, the cache carrying the rest). The token-wise parts run over all new
 * tokens at once ({@link Panels}: weights read once per step, not once per row, bias and residual
 * added in the same pass); attention is per token, over its own row's cache up to its own position,
 * so rows of different lengths need no padding or masks and each row's attention is exactly its
 * own. The LM head runs only on each row's last new token.
 *
 * <p>Rows are independent: a row's logits depend only on its own tokens, whatever other rows share
 * the pass (the sums run in the same order whichever rows and threads compute them).
 *
 * <p>The weights are copied once, into panels (on the Java heap, or in native memory for a model
 * too large for it), when the decoder is made (the model's size once more; {@link
 * dev.flantune.eval.Generator} makes one on its first batched call), so a decoder sees the weights
 * as they were then.
 */
public final class CpuBatchDecoder implements BatchDecoder {
  /**
   * The most new tokens one forward pass takes (a system property lets tests make several chunks);
   * longer prefills go in chunks.
   */
  private final int chunkTokens = Integer.getInteger("flantune.prefillChunkTokens", 512);

  private final CpuEngine engine;
  private final ModelConfig cfg;
  private final int nC, nH, nKv, nD, nF, nV, nL, group, qkvWidth, upWidth;
  private final float scale;
  private final Panels head; // [C, V]
  private final Panels[][] layer; // per layer: qkv, out, up, down
  private final float[][] norms; // per layer: attention gain, bias, MLP gain, bias; then final
  private final boolean swiglu;
  private final boolean onHeap; // where the panel copies live
  // Token rows of the forward pass, grown as needed: residual, normed, q|k|v, attended, up, act.
  private float[][] x = new float[0][], h = x, qkv = x, y = x, u = x, act = x;
  private float[][] rowLogits = new float[0][];

  public CpuBatchDecoder(CpuEngine engine) {
    this.engine = engine;
    cfg = engine.config();
    nC = cfg.nEmbd();
    nH = cfg.nHead();
    nKv = cfg.nKvHead();
    nD = cfg.headSize();
    nF = cfg.innerSize();
    nV = cfg.vocabSize();
    nL = cfg.nLayer();
    group = cfg.groupSize();
    qkvWidth = cfg.qkvWidth();
    upWidth = cfg.upWidth();
    swiglu = cfg.mlp() == ModelConfig.Mlp.SWIGLU;
    scale = (float) (1 / Math.sqrt(nD));
    FloatBuffer pw = engine.weights();
    int headAt = (int) engine.headWeights().offset();
    onHeap = fitsOnHeap(engine);
    head = Panels.copy(pw, headAt, nC, nV, true, null, onHeap);
    layer = new Panels[nL][];
    norms = new float[4 * nL + 2][];
    for (int l = 0; l < nL; l++) {
      CpuEngine.Block w = engine.block(l);
      layer[l] =
          new Panels[] {
            panels(w.qkv(), pw), panels(w.out(), pw), panels(w.up(), pw), panels(w.down(), pw)
          };
      norms[4 * l] = w.attnNorm().g.read(pw);
      norms[4 * l + 1] = w.attnNorm().b == null ? null : w.attnNorm().b.read(pw);
      norms[4 * l + 2] = w.mlpNorm().g.read(pw);
      norms[4 * l + 3] = w.mlpNorm().b == null ? null : w.mlpNorm().b.read(pw);
    }
    Norm f = engine.finalNorm();
    norms[4 * nL] = f.g.read(pw);
    norms[4 * nL + 1] = f.b == null ? null : f.b.read(pw);
  }

  private Panels panels(Linear lin, FloatBuffer pw) {
    float[] bias = lin.b == null ? null : lin.b.read(pw);
    return Panels.copy(pw, lin.w.off, lin.in, lin.out, lin.outIn, bias, onHeap);
  }

  /**
   * Whether the panel copies of all weights take at most half of the heap still free (the launcher
   * gives the JVM 1 GB: about 100M parameters); larger models keep them in native memory.
   */
  private static boolean fitsOnHeap(CpuEngine engine) {
    ModelConfig c = engine.config();
    long floats = Panels.size(c.nEmbd(), c.vocabSize());
    for (int l = 0; l < c.nLayer(); l++) {
      CpuEngine.Block w = engine.block(l);
      for (Linear lin : new Linear[] {w.qkv(), w.out(), w.up(), w.down()})
        floats += Panels.size(lin.in, lin.out);
    }
    Runtime rt = Runtime.getRuntime();
    long free = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    return 4 * floats <= free / 2;
  }

  @Override
  public ModelConfig config() {
    return cfg;
  }

  @Override
  public Decoder open() {
    return new CpuDecoder(engine);
  }

  @Override
  public float[][] step(Decoder[] rows, int[] tokens) {
    if (tokens.length != rows.length)
      throw new IllegalArgumentException(rows.length + " rows, " + tokens.length);
    int[][] each = new int[rows.length][];
    for (int i = 0; i < rows.length; i++) each[i] = new int[] {tokens[i]};
    return append(rows, each);
  }

  @Override
  public float[][] append(Decoder[] rows, int[][] tokens) {
    int m = rows.length;
    if (tokens.length != m) throw new IllegalArgumentException(m + " rows, " + tokens.length);
    CpuDecoder[] d = new CpuDecoder[m];
    for (int i = 0; i < m; i++) {
      if (!(rows[i] instanceof CpuDecoder c) || c.engine() != engine)
        throw new IllegalArgumentException("row " + i + " was not opened by this decoder");
      for (int j = 0; j < i; j++)
        if (d[j] == c) throw new IllegalArgumentException("row " + i + " is also row " + j);
      Decoder.checkAppend(tokens[i], c.length(), cfg);
      d[i] = c;
      c.ensureCapacity(c.length() + tokens[i].length);
    }
    if (rowLogits.length < m) {
      float[][] grown = Arrays.copyOf(rowLogits, Math.max(m, 2 * rowLogits.length));
      for (int i = rowLogits.length; i < grown.length; i++) grown[i] = new float[nV];
      rowLogits = grown;
    }
    // Passes of at most chunkTokens tokens (but at least one per row): rows in order, each
    // contributing what is left of it until the pass is full.
    int[] fed = new int[m];
    int next = 0;
    while (next < m) {
      int budget = Math.max(chunkTokens, m - next);
      int[] seg = new int[m - next], from = new int[m - next], to = new int[m - next];
      int s = 0;
      for (int i = next; i < m && budget > 0; i++) {
        if (fed[i] == tokens[i].length) continue;
        int take = Math.min(tokens[i].length - fed[i], Math.max(1, budget - (m - i - 1)));
        seg[s] = i;
        from[s] = fed[i];
        to[s] = fed[i] + take;
        fed[i] += take;
        budget -= take;
        s++;
      }
      forward(d, tokens, Arrays.copyOf(seg, s), Arrays.copyOf(from, s), Arrays.copyOf(to, s));
      while (next < m && fed[next] == tokens[next].length) next++;
    }
    return Arrays.copyOf(rowLogits, m);
  }

  /**
   * One pass over segments: tokens[seg[s]][from[s], to[s]) appended to row seg[s]; the logits of
   * each row whose segment ends its tokens go to rowLogits[row].
   */
  private void forward(CpuDecoder[] d, int[][] tokens, int[] seg, int[] from, int[] to) {
    int segs = seg.length, n = 0;
    for (int s = 0; s < segs; s++) n += to[s] - from[s];
    int[] tokRow = new int[n], tokPos = new int[n], ids = new int[n];
    for (int s = 0, t = 0; s < segs; s++) {
      int r = seg[s];
      for (int j = from[s]; j < to[s]; j++, t++) {
        tokRow[t] = r;
        tokPos[t] = d[r].length() + j - from[s];
        ids[t] = tokens[r][j];
      }
    }
    ensureTokens(n);
    CpuEngine.Clock clock = new CpuEngine.Clock();
    Parallel.range(
        n,
        nC,
        (a, b) -> {
          for (int t = a; t < b; t++) engine.embedRow(ids[t], tokPos[t], x[t]);
        });
    clock.lap("batch: embedding");
    for (int l = 0; l < nL; l++) {
      Panels[] w = layer[l];
      normRows(x, h, n, norms[4 * l], norms[4 * l + 1], engine.block(l).attnNorm());
      clock.lap("batch: norm");
      w[0].multiply(h, n, qkv, false);
      clock.lap("batch: gemm layers");
      attend(l, d, tokRow, tokPos, n);
      clock.lap("batch: attention (rope, cache, softmax)");
      w[1].multiply(y, n, x, true); // x += y·Wo + b
      clock.lap("batch: gemm layers");
      normRows(x, h, n, norms[4 * l + 2], norms[4 * l + 3], engine.block(l).mlpNorm());
      clock.lap("batch: norm");
      w[2].multiply(h, n, u, false);
      clock.lap("batch: gemm layers");
      activate(n);
      clock.lap("batch: mlp activation");
      w[3].multiply(act, n, x, true); // x += act·Wd + b
      clock.lap("batch: gemm layers");
    }
    // The head on each finished row's last token only, its final norm into h[0, done).
    int done = 0;
    float[][] out = new float[segs][];
    for (int s = 0, t = 0; s < segs; s++) {
      t += to[s] - from[s];
      if (to[s] == tokens[seg[s]].length) {
        engine.finalNorm().row(x[t - 1], h[done], norms[4 * nL], norms[4 * nL + 1], null, 0);
        out[done++] = rowLogits[seg[s]];
      }
    }
    clock.lap("batch: norm");
    head.multiply(h, done, out, false);
    clock.lap("batch: gemm LM head");
    for (int s = 0; s < segs; s++) d[seg[s]].advance(to[s] - from[s]);
  }

  private void normRows(float[][] in, float[][] out, int n, float[] g, float[] b, Norm norm) {
    Parallel.range(
        n,
        3L * nC,
        (a, c) -> {
          for (int t = a; t < c; t++) norm.row(in[t], out[t], g, b, null, 0);
        });
  }

  /**
   * act = silu(gate)·up (SwiGLU, with {@link Activation#sigmoid}'s formula on a vectorized exp) or
   * gelu_new(u), row by row.
   */
  private void activate(int n) {
    Parallel.range(
        n,
        4L * nF,
        (a, b) -> {
          float[] e = new float[nF];
          for (int t = a; t < b; t++) {
            float[] ut = u[t], at = act[t];
            if (swiglu) {
              for (int f = 0; f < nF; f++) e[f] = -Math.abs(ut[f]);
              Simd.exp(e, 0, nF);
              for (int f = 0; f < nF; f++) {
                float g = ut[f], sig = g >= 0 ? 1f / (1f + e[f]) : e[f] / (1f + e[f]);
                at[f] = g * sig * ut[nF + f];
              }
            } else {
              for (int f = 0; f < nF; f++) at[f] = 0.5f * ut[f] * (1 + Activation.geluTanh(ut[f]));
            }
          }
        });
  }

  /**
   * RoPE on every token's q and k heads at its position and its k and v into its row's cache; then
   * each token's query heads attend over their row's cached positions 0..pos into y [N, H·D].
   */
  private void attend(int l, CpuDecoder[] d, int[] tokRow, int[] tokPos, int n) {
    Rope rope = engine.rope();
    int longest = 0;
    for (int p : tokPos) longest = Math.max(longest, p + 1);
    if (rope != null) rope.ensure(longest);
    Parallel.range(
        n,
        8L * (nH + nKv) * nD,
        (a, b) -> {
          for (int t = a; t < b; t++) {
            float[] r = qkv[t], k = d[tokRow[t]].keys(l), v = d[tokRow[t]].values(l);
            int p = tokPos[t], cap = d[tokRow[t]].capacity();
            if (rope != null) {
              for (int head = 0; head < nH + nKv; head++) rope.rotate(r, head * nD, p, false);
            }
            for (int g = 0; g < nKv; g++) {
              System.arraycopy(r, (nH + g) * nD, k, (g * cap + p) * nD, nD);
              System.arraycopy(r, (nH + nKv + g) * nD, v, (g * cap + p) * nD, nD);
            }
          }
        });
    int span = longest;
    long avg = 0;
    for (int p : tokPos) avg += p + 1;
    Parallel.range(
        n,
        Math.max(1, 4L * nH * nD * avg / n),
        (a, b) -> {
          float[] scores = new float[span];
          for (int t = a; t < b; t++) {
            CpuDecoder row = d[tokRow[t]];
            int cap = row.capacity();
            for (int head = 0; head < nH; head++) {
              attendHead(
                  qkv[t],
                  head * nD,
                  row.keys(l),
                  row.values(l),
                  (head / group) * cap * nD,
                  tokPos[t],
                  scores,
                  y[t]);
            }
          }
        });
  }

  /** out[q, q + D) = softmax(q·kᵀ·scale) · v over positions 0..p of one KV head's cache. */
  private void attendHead(
      float[] r, int q, float[] k, float[] v, int base, int p, float[] scores, float[] out) {
    float max = Float.NEGATIVE_INFINITY;
    for (int s = 0; s <= p; s++) {
      float dot =
          Simd.VECTOR
              ? DecodeVector.dot(r, q, k, base + s * nD, nD)
              : Kernels.dot(r, q, k, base + s * nD, nD);
      scores[s] = dot * scale;
      max = Math.max(max, scores[s]);
    }
    float inv = 1 / Simd.expShifted(scores, 0, p + 1, max);
    for (int s = 0; s <= p; s++) scores[s] *= inv;
    if (Simd.VECTOR && nD % Simd.LANES == 0) {
      DecodeVector.weightedSum(scores, p + 1, v, base, nD, out, q);
      return;
    }
    Arrays.fill(out, q, q + nD, 0f);
    for (int s = 0; s <= p; s++) {
      float wgt = scores[s];
      int o = base + s * nD;
      for (int e = 0; e < nD; e++) out[q + e] += wgt * v[o + e];
    }
  }

  /** Token rows for {@code n} tokens; grown (doubling), never shrunk. */
  private void ensureTokens(int n) {
    if (n <= x.length) return;
    int cap = Math.max(n, 2 * x.length);
    x = rows(x, cap, nC);
    h = rows(h, cap, nC);
    qkv = rows(qkv, cap, qkvWidth);
    y = rows(y, cap, nH * nD);
    u = rows(u, cap, upWidth);
    act = rows(act, cap, nF);
  }

  private static float[][] rows(float[][] old, int cap, int width) {
    float[][] grown = Arrays.copyOf(old, cap);
    for (int i = old.length; i < cap; i++) grown[i] = new float[width];
    return grown;
  }
}
