package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.gemm;

import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The LM head of the CPU engine, on the scored rows only: logits [M, V] = h·headᵀ, the
 * cross-entropy with its gradient left in place of the logits, dh = dLogits·head (and dHead unless
 * the head is frozen), and the one-row product decoding uses. A head held in two bytes is widened
 * {@link #chunkRows()} vocabulary rows at a time, so no fp32 copy of it exists.
 */
final class LmHead {
  private final Param head; // [V, C]
  private final INDArray flat; // the parameter buffer the head lives in
  private final int nC, nV;
  private final Storage widened; // shared fp32 scratch (two-byte heads only)
  private final int chunkRows = chunkRows();
  private Storage chunk;
  private Storage in, logits, dIn; // [M, C], [M, V], [M, C]: M = scored rows
  private int capacity;

  /** Vocabulary rows widened at a time (a system property lets tests make several chunks). */
  static int chunkRows() {
    return Integer.getInteger("flantune.headChunkRows", 4096);
  }

  LmHead(Param head, INDArray flat, int nC, int nV, Storage widened) {
    this.head = head;
    this.flat = flat;
    this.nC = nC;
    this.nV = nV;
    this.widened = widened;
  }

  INDArray weights() {
    return head.w;
  }

  /**
   * Gathers rows {@code rows} of the final hidden states {@code hf} (of {@code n} tokens) and
   * returns their logits [M, V] (kept, with the gathered rows, for {@link #backward}).
   */
  Buf logits(FloatBuffer hf, int[] rows, int n) {
    int m = rows.length;
    ensureCapacity(m, n);
    Buf x = in.rows(m, nC), out = logits.rows(m, nV);
    Kernels.gatherRows(hf, rows, x.fb(), nC);
    if (head.half == null) {
      gemm(x.arr(), false, head.w, true, out.arr(), 1, 0);
      return out;
    }
    for (int v0 = 0; v0 < nV; v0 += chunkRows) {
      int vc = Math.min(chunkRows, nV - v0), from = v0;
      Buf t = chunkBuffer(m, vc);
      gemm(x.arr(), false, widenRows(v0, vc), true, t.arr(), 1, 0);
      Parallel.range(
          m,
          vc,
          (a, b) -> {
            for (int i = a; i < b; i++) out.fb().put(i * nV + from, t.fb(), i * vc, vc);
          });
    }
    return out;
  }

  /**
   * From d(loss)/d(logits) {@code lg} of the last {@link #logits} call: dHead += lgᵀ·x unless the
   * head is frozen, and returns dh [M, C] = lg·head (chunk by chunk for a two-byte head).
   */
  Buf backward(Buf lg, int m) {
    Buf d = dIn.rows(m, nC), x = in.rows(m, nC);
    if (head.half == null) {
      gemm(lg.arr(), false, head.w, false, d.arr(), 1, 0);
    } else {
      for (int v0 = 0; v0 < nV; v0 += chunkRows) {
        int vc = Math.min(chunkRows, nV - v0), from = v0;
        Buf t = chunkBuffer(m, vc);
        Parallel.range(
            m,
            vc,
            (a, b) -> {
              for (int i = a; i < b; i++) t.fb().put(i * vc, lg.fb(), i * nV + from, vc);
            });
        gemm(t.arr(), false, widenRows(v0, vc), false, d.arr(), 1, v0 == 0 ? 0 : 1);
      }
    }
    if (head.g != null) gemm(lg.arr(), true, x.arr(), false, head.g, 1, 1);
    return d;
  }

  /**
   * Σ_j nll_j·w_j over scored rows j (token rows[j], label labels[rows[j]]); leaves
   * d(loss)/d(logits) = (softmax − onehot)·w_j in place of the logits.
   */
  double crossEntropy(FloatBuffer logits, int m, int[] labels, int[] rows, float[] weights) {
    double[] nll = new double[m];
    Parallel.range(
        m,
        nV,
        (from, to) -> {
          float[] row = new float[nV];
          for (int j = from; j < to; j++) {
            int o = j * nV, label = labels[rows[j]];
            logits.get(o, row, 0, nV);
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < nV; v++) max = Math.max(max, row[v]);
            float target = row[label];
            double sum = expShifted(row, max);
            nll[j] = Math.log(sum) + max - target;
            float w = weights == null ? 1f : weights[rows[j]];
            float scale = (float) (w / sum);
            for (int v = 0; v < nV; v++) row[v] *= scale;
            row[label] -= w;
            logits.put(o, row, 0, nV);
          }
        });
    double loss = 0;
    for (int j = 0; j < m; j++) loss += nll[j] * (weights == null ? 1 : weights[rows[j]]);
    return loss;
  }

  /** row ← e^(row − max) (vectorized); returns the sum, in four fixed partial sums. */
  double expShifted(float[] row, float max) {
    for (int v = 0; v < nV; v++) row[v] -= max;
    Simd.exp(row, 0, nV);
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int v = 0;
    for (; v + 4 <= nV; v += 4) {
      s0 += row[v];
      s1 += row[v + 1];
      s2 += row[v + 2];
      s3 += row[v + 3];
    }
    for (; v < nV; v++) s0 += row[v];
    return (s0 + s1) + (s2 + s3);
  }

  /**
   * logits = head · h for one row, by ND4J's GEMM: the head is the largest matrix (V × C) and this
   * call streams it faster than Java does (0.8 vs 2.2 ms for V50257 C128).
   */
  float[] row(float[] hRow, Storage rowIn, Storage rowOut) {
    rowIn.fb.put(0, hRow, 0, nC);
    gemm(rowIn.rows(1, nC).arr(), false, head.w, true, rowOut.rows(1, nV).arr(), 1, 0);
    float[] out = new float[nV];
    rowOut.fb.get(0, out, 0, nV);
    return out;
  }

  /** Rows [v0, v0 + vc) of the two-byte head as fp32 [vc, C], in the shared scratch. */
  private INDArray widenRows(int v0, int vc) {
    INDArray rows = Kernels.view(flat, head.off + (long) v0 * nC, vc, nC);
    INDArray d = widened.view(0, vc, nC).arr();
    d.assign(rows);
    return d;
  }

  private Buf chunkBuffer(int m, int vc) {
    long need = (long) m * chunkRows;
    if (chunk == null || chunk.flat.length() < need) {
      if (chunk != null) chunk.close();
      chunk = new Storage(need);
    }
    return chunk.rows(m, vc);
  }

  /** Buffers for {@code m} scored rows (of a batch of {@code n} tokens); grown, never shrunk. */
  private void ensureCapacity(int m, int n) {
    if (m <= capacity) return;
    int cap = Math.max(m, Math.min(n, capacity + capacity / 4));
    if ((long) cap * nV >= Integer.MAX_VALUE)
      throw CpuEngine.tooLarge(m + " scored positions × a vocabulary of " + nV);
    if (in != null) {
      in.close();
      logits.close();
      dIn.close();
    }
    in = new Storage((long) cap * nC);
    logits = new Storage((long) cap * nV);
    dIn = new Storage((long) cap * nC);
    capacity = cap;
  }
}
