package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.gemm;

import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
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
   * d(loss)/d(logits) = (softmax − onehot)·w_j in place of the logits (bytes in native order, float
   * i at byte 4i). With the Vector API ({@link ElementwiseVector}) rows are processed in place on
   * the buffer; on row copies otherwise, with the same bits.
   */
  double crossEntropy(ByteBuffer logits, int m, int[] labels, int[] rows, float[] weights) {
    return crossEntropy(logits, m, labels, rows, weights, Simd.VECTOR);
  }

  /** {@link #crossEntropy} on the Vector API or not (tests compare the two). */
  double crossEntropy(
      ByteBuffer logits, int m, int[] labels, int[] rows, float[] weights, boolean vector) {
    double[] nll = new double[m];
    boolean inPlace = vector && nV >= ElementwiseVector.lanes();
    Parallel.range(
        m,
        (inPlace ? 2L : 8L) * nV,
        (from, to) -> {
          float[] row = inPlace ? null : new float[nV], parts = new float[Simd.PARTS];
          FloatBuffer lf = logits.asFloatBuffer();
          for (int j = from; j < to; j++) {
            int o = j * nV, label = labels[rows[j]];
            float w = weights == null ? 1f : weights[rows[j]];
            if (inPlace) {
              float max = ElementwiseVector.max(logits, o, nV);
              float target = logits.getFloat(4 * (o + label));
              double sum = ElementwiseVector.expSum(logits, o, nV, max, parts);
              nll[j] = Math.log(sum) + max - target;
              float scale = (float) (w / sum);
              for (int v = ElementwiseVector.scale(logits, o, nV, scale); v < nV; v++) {
                logits.putFloat(4 * (o + v), logits.getFloat(4 * (o + v)) * scale);
              }
              logits.putFloat(4 * (o + label), logits.getFloat(4 * (o + label)) - w);
              continue;
            }
            lf.get(o, row, 0, nV);
            float max = Simd.max(row, 0, nV, Float.NEGATIVE_INFINITY);
            float target = row[label];
            double sum = expShifted(row, max);
            nll[j] = Math.log(sum) + max - target;
            float scale = (float) (w / sum);
            for (int v = 0; v < nV; v++) row[v] *= scale;
            row[label] -= w;
            lf.put(o, row, 0, nV);
          }
        });
    double loss = 0;
    for (int j = 0; j < m; j++) loss += nll[j] * (weights == null ? 1 : weights[rows[j]]);
    return loss;
  }

  /** Elements per block of the softmax sums (see {@link #expShifted}). */
  static final int SUM_BLOCK = 256;

  /**
   * row ← e^(row − max); returns the sum: per block of {@link #SUM_BLOCK} elements 16 fp32 partial
   * sums (element k into k % 16, independent chains) combined pairwise, the blocks added in fp64 in
   * order. The same order on every path ({@link ElementwiseVector#expSum}).
   */
  double expShifted(float[] row, float max) {
    Simd.expMinus(row, 0, nV, max);
    float[] parts = new float[Simd.PARTS];
    double total = 0;
    for (int b0 = 0; b0 < nV; b0 += SUM_BLOCK) {
      int end = Math.min(nV, b0 + SUM_BLOCK);
      java.util.Arrays.fill(parts, 0f);
      for (int k = b0; k < end; k++) parts[k % Simd.PARTS] += row[k];
      total += Simd.combineParts(parts, 0);
    }
    return total;
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
