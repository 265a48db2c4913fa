package dev.flantune.model.cpu;

import dev.flantune.model.BatchDecoder;
import dev.flantune.model.Decoder;
import dev.flantune.model.FastMath;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The CPU engine's batched decoding step: one new token for each of M rows, every row a {@link
 * CpuDecoder} with its own key/value cache, length and positions. The token-wise parts run as GEMMs
 * over all rows at once ([M, C]·[C, N] through {@link Linear#forward}, the head [M, C]·[C, V]), so
 * the weights are read once per step rather than once per row; attention is per row, over that
 * row's own cache only, so rows of different lengths need no padding or masks and each row's
 * attention is exactly its own. Prompts go in through each row's {@link CpuDecoder#append} (the
 * engine's forward pass), exactly as when decoding one sequence.
 *
 * <p>Rows are independent: a row's logits depend only on its own tokens, whatever other rows share
 * the step (up to the GEMM's own rounding, which this class does not control).
 *
 * <p>Weights stored [out, in] (torch's Linear layout, and the LM head [V, C]) are copied once,
 * transposed, when the decoder is made: at a few rows ND4J's GEMM with a transposed operand runs at
 * a fifth of the speed of the plain one (10 vs 60 GFLOP/s for [16, 512]·[512, 8000] here). So a
 * decoder sees the weights as they were when it was made ({@link dev.flantune.eval.Generator} makes
 * one on its first batched call).
 */
public final class CpuBatchDecoder implements BatchDecoder {
  private final CpuEngine engine;
  private final ModelConfig cfg;
  private final int nC, nH, nKv, nD, nF, nV, nL, group, qkvWidth;
  private final float scale;
  private int capacity; // rows the buffers hold
  private Storage resid, normed, qkv, attended, up, act, scratch, logits;
  private float[] stats = new float[0];
  private float[][] rowLogits = new float[0][];
  private final INDArray headT; // [C, V]
  private final INDArray[][] layerT; // per layer: qkv, out, up, down as [in, out]; null entries

  // for weights already stored [in, out] (GPT-2's Conv1D)

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
    scale = (float) (1 / Math.sqrt(nD));
    headT = engine.headWeights().transpose().dup('c');
    layerT = new INDArray[nL][];
    for (int l = 0; l < nL; l++) {
      CpuEngine.Block w = engine.block(l);
      layerT[l] = new INDArray[] {inOut(w.qkv()), inOut(w.out()), inOut(w.up()), inOut(w.down())};
    }
  }

  private static INDArray inOut(Linear lin) {
    return lin.outIn ? lin.w.w.transpose().dup('c') : null;
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
    int m = rows.length;
    if (tokens.length != m) throw new IllegalArgumentException(m + " rows, " + tokens.length);
    CpuDecoder[] d = new CpuDecoder[m];
    int[] pos = new int[m];
    for (int i = 0; i < m; i++) {
      if (!(rows[i] instanceof CpuDecoder c) || c.engine() != engine)
        throw new IllegalArgumentException("row " + i + " was not opened by this decoder");
      Decoder.checkAppend(new int[] {tokens[i]}, c.length(), cfg);
      d[i] = c;
      pos[i] = c.length();
      c.ensureCapacity(pos[i] + 1);
    }
    ensureRows(m);
    FloatBuffer pw = engine.weights();
    Buf x = resid.rows(m, nC), h = normed.rows(m, nC);
    embed(tokens, pos, x.fb());
    for (int l = 0; l < nL; l++) {
      CpuEngine.Block w = engine.block(l);
      w.attnNorm().forward(x.fb(), h.fb(), stats, pw, m);
      Buf q = qkv.rows(m, qkvWidth), y = attended.rows(m, nH * nD);
      INDArray[] t = layerT[l];
      linear(w.qkv(), t[0], h, q, null, pw, m);
      attend(l, d, pos, q.fb(), y.fb());
      linear(w.out(), t[1], y, x, x.fb(), pw, m); // x += y·Wo + b
      w.mlpNorm().forward(x.fb(), h.fb(), stats, pw, m);
      Buf u = up.rows(m, cfg.upWidth()), a = act.rows(m, nF);
      linear(w.up(), t[2], h, u, null, pw, m);
      if (cfg.mlp() == ModelConfig.Mlp.SWIGLU) {
        Activation.swiglu(u.fb(), scratch.fb, a.fb(), m, nF);
      } else {
        Activation.gelu(u.fb(), scratch.fb, a.fb(), m * nF);
      }
      linear(w.down(), t[3], a, x, x.fb(), pw, m); // x += act·Wd + b
    }
    engine.finalNorm().forward(x.fb(), h.fb(), stats, pw, m);
    Buf out = logits.rows(m, nV);
    Kernels.gemm(h.arr(), false, headT, false, out.arr(), 1, 0);
    float[][] result = new float[m][];
    for (int i = 0; i < m; i++) {
      out.fb().get(i * nV, rowLogits[i], 0, nV);
      result[i] = rowLogits[i];
      d[i].advance();
    }
    return result;
  }

  /**
   * y = x·W + b, or y = residual + x·W + b: {@link Linear#forward} for weights stored [in, out],
   * the same with the transposed copy {@code wT} otherwise.
   */
  private static void linear(
      Linear lin, INDArray wT, Buf x, Buf y, FloatBuffer residual, FloatBuffer pw, int m) {
    if (wT == null) {
      lin.forward(x, y, residual, pw, m);
      return;
    }
    float[] bias = lin.b == null ? null : lin.b.read(pw);
    double beta = 1;
    if (residual != null) Kernels.copyAddRows(residual, bias, y.fb(), m, lin.out);
    else if (bias != null) Kernels.fillRows(y.fb(), bias, m, lin.out);
    else beta = 0;
    Kernels.gemm(x.arr(), false, wT, false, y.arr(), 1, beta);
  }

  /** x[i] = the embedding of tokens[i] at position pos[i]. */
  private void embed(int[] tokens, int[] pos, FloatBuffer x) {
    float[] row = new float[nC];
    for (int i = 0; i < tokens.length; i++) {
      engine.embedRow(tokens[i], pos[i], row);
      x.put(i * nC, row, 0, nC);
    }
  }

  /**
   * For each row: RoPE on its q and k heads at its position, its k and v into its cache, then each
   * query head's softmax-weighted sum over that row's cached positions 0..pos into y [M, H·D].
   */
  private void attend(int l, CpuDecoder[] d, int[] pos, FloatBuffer qkvRows, FloatBuffer y) {
    Rope rope = engine.rope();
    int longest = 0;
    for (int p : pos) longest = Math.max(longest, p + 1);
    int span = longest;
    Parallel.range(
        d.length,
        4L * nH * nD * span,
        (from, to) -> {
          float[] r = new float[qkvWidth], out = new float[nH * nD], scores = new float[span];
          for (int i = from; i < to; i++) {
            int p = pos[i], cap = d[i].capacity();
            float[] k = d[i].keys(l), v = d[i].values(l);
            qkvRows.get(i * qkvWidth, r, 0, qkvWidth);
            if (rope != null) {
              for (int head = 0; head < nH + nKv; head++) rope.rotate(r, head * nD, p, false);
            }
            for (int g = 0; g < nKv; g++) {
              System.arraycopy(r, (nH + g) * nD, k, (g * cap + p) * nD, nD);
              System.arraycopy(r, (nH + nKv + g) * nD, v, (g * cap + p) * nD, nD);
            }
            for (int head = 0; head < nH; head++) {
              attendHead(r, head * nD, k, v, (head / group) * cap * nD, p, scores, out);
            }
            y.put(i * nH * nD, out, 0, nH * nD);
          }
        });
  }

  /** out[q, q + D) = softmax(q·kᵀ·scale) · v over positions 0..p of one KV head's cache. */
  private void attendHead(
      float[] r, int q, float[] k, float[] v, int base, int p, float[] scores, float[] out) {
    float max = Float.NEGATIVE_INFINITY;
    for (int s = 0; s <= p; s++) {
      scores[s] = Kernels.dot(r, q, k, base + s * nD, nD) * scale;
      max = Math.max(max, scores[s]);
    }
    float sum = 0;
    for (int s = 0; s <= p; s++) sum += scores[s] = FastMath.exp(scores[s] - max);
    java.util.Arrays.fill(out, q, q + nD, 0f);
    for (int s = 0; s <= p; s++) {
      float wgt = scores[s] / sum;
      int o = base + s * nD;
      for (int e = 0; e < nD; e++) out[q + e] += wgt * v[o + e];
    }
  }

  /** Buffers for {@code m} rows; grown (doubling), never shrunk. */
  private void ensureRows(int m) {
    if (m > capacity) {
      int cap = Math.max(m, 2 * capacity);
      if (resid != null) {
        for (Storage s : new Storage[] {resid, normed, qkv, attended, up, act, scratch, logits})
          s.close();
      }
      resid = new Storage((long) cap * nC);
      normed = new Storage((long) cap * nC);
      qkv = new Storage((long) cap * qkvWidth);
      attended = new Storage((long) cap * nH * nD);
      up = new Storage((long) cap * cfg.upWidth());
      act = new Storage((long) cap * nF);
      scratch = new Storage((long) cap * nF);
      logits = new Storage((long) cap * nV);
      stats = new float[2 * cap];
      capacity = cap;
    }
    if (rowLogits.length < m) {
      float[][] grown = java.util.Arrays.copyOf(rowLogits, capacity);
      for (int i = rowLogits.length; i < capacity; i++) grown[i] = new float[nV];
      rowLogits = grown;
    }
  }
}
