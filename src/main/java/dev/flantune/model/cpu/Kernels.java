package dev.flantune.model.cpu;

import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CPU engine's building blocks that know no model: contiguous buffers, GEMM into preallocated
 * outputs, and row copies.
 *
 * <p>Every loop copies its row or chunk into a Java array first: arithmetic on arrays is vectorized
 * by the JIT, on direct FloatBuffers it is not (GELU measured 1.4 vs 15 ms over 2M elements). The
 * Vector API kernels ({@link ElementwiseVector}) read the buffers' bytes in place instead.
 */
final class Kernels {
  private Kernels() {}

  /** Elements per chunk of the elementwise loops (three chunks fit in L1). */
  static final int CHUNK = 2048;

  /**
   * A contiguous fp32 array: as INDArray for native ops, as FloatBuffer (index 0) for loops, as
   * bytes in native order (float i at byte 4i) for the Vector API.
   */
  record Buf(INDArray arr, FloatBuffer fb, ByteBuffer bytes) {}

  /** Storage of a given capacity from which prefix views of any shape are cut. */
  static final class Storage {
    final INDArray flat;
    final FloatBuffer fb;
    final ByteBuffer bytes;

    Storage(long capacity) {
      flat = Nd4j.create(DataType.FLOAT, capacity);
      fb = flat.data().asNioFloat();
      bytes = flat.data().asNio().order(ByteOrder.nativeOrder());
    }

    Buf view(long offset, long... shape) {
      return new Buf(Kernels.view(flat, offset, shape), fb, bytes);
    }

    /** The first {@code m} rows of width {@code k}. */
    Buf rows(int m, int k) {
      return view(0, m, k);
    }

    void close() {
      flat.close();
    }
  }

  /**
   * A c-order view of {@code shape} starting at element {@code offset} of {@code base}'s buffer.
   */
  static INDArray view(INDArray base, long offset, long... shape) {
    long[] stride = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      stride[i] = s;
      s *= shape[i];
    }
    if (offset + s > base.data().length()) throw new IllegalStateException("view out of bounds");
    return Nd4j.create(base.data(), shape, stride, offset, 'c', base.dataType());
  }

  /** c = α·op(a)·op(b) + β·c (ND4J's GEMM, oneDNN on CPU; the output is never reallocated). */
  static void gemm(
      INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
    Nd4j.gemm(a, b, c, ta, tb, alpha, beta);
  }

  static void zero(FloatBuffer x, int len) {
    float[] zeros = new float[Math.min(len, 1 << 16)];
    for (int i = 0; i < len; i += zeros.length) x.put(i, zeros, 0, Math.min(zeros.length, len - i));
  }

  /** Every row of out [n, k] = v. */
  static void fillRows(FloatBuffer out, float[] v, int n, int k) {
    Parallel.range(
        n,
        k,
        (from, to) -> {
          for (int i = from; i < to; i++) out.put(i * k, v);
        });
  }

  /** out = x + v per row (v may be null: a copy), x and out [n, k]. */
  static void copyAddRows(FloatBuffer x, float[] v, FloatBuffer out, int n, int k) {
    Parallel.range(
        n,
        k,
        (from, to) -> {
          float[] row = new float[k];
          for (int i = from; i < to; i++) {
            x.get(i * k, row, 0, k);
            if (v != null) for (int c = 0; c < k; c++) row[c] += v[c];
            out.put(i * k, row, 0, k);
          }
        });
  }

  static void gatherRows(FloatBuffer src, int[] rows, FloatBuffer dst, int k) {
    for (int j = 0; j < rows.length; j++) dst.put(j * k, src, rows[j] * k, k);
  }

  static void scatterRows(FloatBuffer src, int[] rows, FloatBuffer dst, int k) {
    for (int j = 0; j < rows.length; j++) dst.put(rows[j] * k, src, j * k, k);
  }

  /**
   * a[0, n) · b[off, off + n) with eight independent partial sums: the JIT does not vectorize a
   * float reduction (it would reorder it), but it overlaps independent chains (4× here).
   */
  static float dot(float[] a, int aOff, float[] b, int off, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      s0 += a[aOff + i] * b[off + i];
      s1 += a[aOff + i + 1] * b[off + i + 1];
      s2 += a[aOff + i + 2] * b[off + i + 2];
      s3 += a[aOff + i + 3] * b[off + i + 3];
      s4 += a[aOff + i + 4] * b[off + i + 4];
      s5 += a[aOff + i + 5] * b[off + i + 5];
      s6 += a[aOff + i + 6] * b[off + i + 6];
      s7 += a[aOff + i + 7] * b[off + i + 7];
    }
    for (; i < n; i++) s0 += a[aOff + i] * b[off + i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }
}
