package dev.flantune.model.cpu;

import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * A weight matrix W [K, N] (and its bias) copied into column panels of {@link #WIDTH} columns, each
 * panel's K rows contiguous, for the products of batched decoding: y (+)= x·W + b over a few to a
 * few hundred token rows. ND4J's GEMM costs 40-150 µs per call at 16 rows whatever the size (the
 * tiny base's [16, 128]·[128, 384] ran at 4-37 GFLOP/s) and a fifth of its speed with a transposed
 * operand; this kernel reads each panel once per block of 4 rows from the Java heap, in order, and
 * reached 100-170 GFLOP/s on the same shapes (docs/benchmarks.md, issue #15).
 *
 * <p>A model too large for the Java heap keeps its copy in native memory, read through a ByteBuffer
 * (about 1.5× slower in the kernel).
 *
 * <p>Every output element is Σ_k x_k·w_kj by fused multiply-adds in k order from 0, then + b_j,
 * then added to y when accumulating: the same value on the vector and the scalar path.
 */
final class Panels {
  /** Columns per panel: four vector registers. */
  static final int WIDTH = 4 * Simd.LANES;

  final int k, n, panels;
  final float[] w; // [panels, K, WIDTH], the last panel padded with zeros; or null (off the heap)
  final ByteBuffer off; // the same in native memory when the heap has no room; or null
  private final Kernels.Storage store; // owns off's memory
  final float[] bias; // [panels · WIDTH] padded, or null

  private Panels(int k, int n, float[] w, Kernels.Storage store, float[] bias) {
    this.k = k;
    this.n = n;
    this.panels = (n + WIDTH - 1) / WIDTH;
    this.w = w;
    this.store = store;
    this.off = store == null ? null : store.flat.data().asNio().order(ByteOrder.nativeOrder());
    this.bias = bias;
  }

  /** Floats a copy of a [K, N] matrix holds. */
  static long size(int k, int n) {
    return (long) ((n + WIDTH - 1) / WIDTH) * k * WIDTH;
  }

  /**
   * Copies W from the flat buffer at {@code at}: stored [K, N] (GPT-2's Conv1D), or [N, K] when
   * {@code outIn} (torch's Linear, the LM head); {@code bias} of N values or null. The copy lives
   * on the Java heap when {@code onHeap} (the faster kernel), else in native memory.
   */
  static Panels copy(
      FloatBuffer pw, int at, int k, int n, boolean outIn, float[] bias, boolean onHeap) {
    int panels = (n + WIDTH - 1) / WIDTH;
    long size = size(k, n);
    if (size >= Integer.MAX_VALUE / 4)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "a "
              + k
              + " × "
              + n
              + " weight matrix is past the batched decoder's 2^29 values; set"
              + " FLAN_TUNE_ENGINE=graph to generate through the graph engine");
    float[] w = onHeap ? new float[(int) size] : null;
    Kernels.Storage store = onHeap ? null : new Kernels.Storage(size);
    float[] panel = new float[k * WIDTH], row = new float[k];
    for (int p = 0; p < panels; p++) {
      int cols = Math.min(WIDTH, n - p * WIDTH);
      java.util.Arrays.fill(panel, 0f);
      if (outIn) {
        for (int c = 0; c < cols; c++) {
          pw.get(at + (p * WIDTH + c) * k, row, 0, k);
          for (int i = 0; i < k; i++) panel[i * WIDTH + c] = row[i];
        }
      } else {
        for (int i = 0; i < k; i++) pw.get(at + i * n + p * WIDTH, panel, i * WIDTH, cols);
      }
      if (onHeap) System.arraycopy(panel, 0, w, p * k * WIDTH, k * WIDTH);
      else store.fb.put(p * k * WIDTH, panel, 0, k * WIDTH);
    }
    float[] b = null;
    if (bias != null) b = java.util.Arrays.copyOf(bias, panels * WIDTH);
    return new Panels(k, n, w, store, b);
  }

  /**
   * y[i] = x[i]·W + b, or y[i] += x[i]·W + b when {@code accumulate}, for rows i in [0, m): x rows
   * of at least K values, y rows of at least N. Panels are split between threads.
   */
  void multiply(float[][] x, int m, float[][] y, boolean accumulate) {
    long perPanel = (long) m * k * WIDTH / 64; // ≈ ns at ~128 GFLOP/s
    Parallel.range(
        panels,
        perPanel,
        (from, to) -> {
          float[] tile = new float[4 * WIDTH];
          for (int p = from; p < to; p++) panel(x, m, y, accumulate, p, tile);
        });
  }

  private void panel(float[][] x, int m, float[][] y, boolean accumulate, int p, float[] tile) {
    int i = 0;
    if (Simd.VECTOR && w != null) {
      for (; i + 4 <= m; i += 4) {
        DecodeVector.rows4(this, x, i, p, tile);
        finish(tile, 4, y, i, p, accumulate);
      }
      for (; i < m; i++) {
        DecodeVector.row1(this, x[i], p, tile);
        finish(tile, 1, y, i, p, accumulate);
      }
    } else if (Simd.VECTOR) {
      for (; i + 4 <= m; i += 4) {
        DecodeVector.rows4(this, off, x, i, p, tile);
        finish(tile, 4, y, i, p, accumulate);
      }
      for (; i < m; i++) {
        DecodeVector.row1(this, off, x[i], p, tile);
        finish(tile, 1, y, i, p, accumulate);
      }
    } else {
      for (; i < m; i++) {
        rowScalar(x[i], p, tile);
        finish(tile, 1, y, i, p, accumulate);
      }
    }
  }

  /** y[i + r] (+)= tile row r + bias over panel p's real columns, for r in [0, rows). */
  private void finish(float[] tile, int rows, float[][] y, int i, int p, boolean accumulate) {
    int j0 = p * WIDTH, cols = Math.min(WIDTH, n - j0);
    for (int r = 0; r < rows; r++) {
      float[] yr = y[i + r];
      int t = r * WIDTH;
      if (bias != null) for (int j = 0; j < cols; j++) tile[t + j] += bias[j0 + j];
      if (accumulate) for (int j = 0; j < cols; j++) yr[j0 + j] = tile[t + j] + yr[j0 + j];
      else System.arraycopy(tile, t, yr, j0, cols);
    }
  }

  /** tile[0, WIDTH) = x·(panel p) without the Vector API: the same fused multiply-adds in order. */
  private void rowScalar(float[] x, int p, float[] tile) {
    java.util.Arrays.fill(tile, 0, WIDTH, 0f);
    int base = p * k * WIDTH;
    float[] wr = new float[WIDTH];
    for (int i = 0; i < k; i++) {
      float xi = x[i];
      int at = base + i * WIDTH;
      if (w != null) System.arraycopy(w, at, wr, 0, WIDTH);
      else store.fb.get(at, wr, 0, WIDTH);
      for (int j = 0; j < WIDTH; j++) tile[j] = Math.fma(xi, wr[j], tile[j]);
    }
  }
}
