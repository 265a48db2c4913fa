package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Simd.PARTS;
import static dev.flantune.model.cpu.Simd.combineParts;

import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * LayerNorm (y = (x − μ)·rstd·g + b, biased variance) or RMSNorm (y = x·rstd·g, rstd = 1/√(mean(x²)
 * + eps)) over rows of C, with its backward. μ (0 for RMSNorm) and rstd are kept per row for the
 * backward pass.
 *
 * <p>Every row sum (Σx, Σ(x − μ)², and the backward's Σdx̂, Σdx̂·x̂) is {@link Simd#PARTS} partial
 * sums in fp32, element k into sum k % 16, combined pairwise in a fixed order: independent chains
 * instead of one latency-bound chain of C dependent adds, the same order on every path and thread
 * count. With the Vector API ({@link ElementwiseVector}) rows are read and written in place on the
 * buffers; the scalar loops here (without it, on the decoder's rows, and for the tails) give the
 * same bits.
 */
final class Norm {
  /** Rows per block of the gain/bias gradient sums: fixed, so the sums' order never varies. */
  private static final int REDUCE_BLOCK = 32;

  /** Whether the Vector API kernels run (they need 8 or 16 lanes: whole vectors per 16 sums). */
  static final boolean VECTOR = Simd.VECTOR && ElementwiseVector.normLanes();

  final Param g;
  final Param b; // null for RMSNorm
  final boolean rms;
  final float eps;
  final int c;

  Norm(Param g, Param b, boolean rms, double eps, int c) {
    this.g = g;
    this.b = b;
    this.rms = rms;
    this.eps = (float) eps;
    this.c = c;
  }

  private float rstd(float squares) {
    return (float) (1 / Math.sqrt((double) squares / c + eps));
  }

  /** One row ({@code out} may be {@code x}); μ and rstd to stats[2i], stats[2i + 1] if non-null. */
  void row(float[] x, float[] out, float[] gv, float[] bv, float[] stats, int i) {
    float[] parts = new float[PARTS];
    float mean = 0;
    if (!rms) {
      for (int k = 0; k < c; k++) parts[k % PARTS] += x[k];
      mean = combineParts(parts, 0) / c;
      java.util.Arrays.fill(parts, 0f);
    }
    for (int k = 0; k < c; k++) {
      float d = x[k] - mean;
      parts[k % PARTS] = Math.fma(d, d, parts[k % PARTS]);
    }
    float rstd = rstd(combineParts(parts, 0));
    if (bv == null) for (int k = 0; k < c; k++) out[k] = (x[k] - mean) * rstd * gv[k];
    else for (int k = 0; k < c; k++) out[k] = (x[k] - mean) * rstd * gv[k] + bv[k];
    if (stats != null) {
      stats[2 * i] = mean;
      stats[2 * i + 1] = rstd;
    }
  }

  /** Every row of x [n, C] into out (bytes in native order, float i at byte 4i). */
  void forward(ByteBuffer x, ByteBuffer out, float[] stats, FloatBuffer pw, int n) {
    forward(x, out, stats, pw, n, VECTOR);
  }

  /** {@link #forward} on the Vector API or not (tests compare the two). */
  void forward(ByteBuffer x, ByteBuffer out, float[] stats, FloatBuffer pw, int n, boolean vector) {
    float[] gv = g.read(pw), bv = b == null ? null : b.read(pw);
    Parallel.range(
        n,
        (vector ? 1L : 3L) * c,
        (from, to) -> {
          if (vector) {
            float[] parts = new float[PARTS];
            for (int i = from; i < to; i++) vectorRow(x, out, gv, bv, stats, i, parts);
            return;
          }
          FloatBuffer xf = x.asFloatBuffer(), of = out.asFloatBuffer();
          float[] row = new float[c];
          for (int i = from; i < to; i++) {
            xf.get(i * c, row, 0, c);
            row(row, row, gv, bv, stats, i);
            of.put(i * c, row, 0, c);
          }
        });
  }

  /** {@link #row} on the buffers' row i with the Vector API. */
  private void vectorRow(
      ByteBuffer x, ByteBuffer out, float[] gv, float[] bv, float[] stats, int i, float[] parts) {
    int o = i * c;
    float mean = rms ? 0f : ElementwiseVector.sum(x, o, c, parts) / c;
    float rstd = rstd(ElementwiseVector.squares(x, o, c, mean, parts));
    for (int k = ElementwiseVector.normalize(x, o, out, o, c, mean, rstd, gv, bv); k < c; k++) {
      float y = (x.getFloat(4 * (o + k)) - mean) * rstd * gv[k];
      out.putFloat(4 * (o + k), bv == null ? y : y + bv[k]);
    }
    if (stats != null) {
      stats[2 * i] = mean;
      stats[2 * i + 1] = rstd;
    }
  }

  /**
   * dx (+)= rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·g (RMSNorm: no mean(dx̂) term);
   * dg += Σ dy·x̂, db += Σ dy.
   */
  void backward(
      ByteBuffer dy,
      ByteBuffer x,
      float[] stats,
      ByteBuffer dx,
      boolean accumulate,
      FloatBuffer pw,
      FloatBuffer gw,
      int n) {
    backward(dy, x, stats, dx, accumulate, pw, gw, n, VECTOR);
  }

  /** {@link #backward} on the Vector API or not (tests compare the two). */
  void backward(
      ByteBuffer dy,
      ByteBuffer x,
      float[] stats,
      ByteBuffer dx,
      boolean accumulate,
      FloatBuffer pw,
      FloatBuffer gw,
      int n,
      boolean vector) {
    float[] gv = g.read(pw);
    int blocks = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
    float[][] dgPart = new float[blocks][c], dbPart = new float[blocks][c];
    Parallel.range(
        blocks,
        REDUCE_BLOCK * (vector ? 2L : 4L) * c,
        (fromBlock, toBlock) -> {
          float[] p1 = new float[PARTS], p2 = new float[PARTS];
          float[] dyr = new float[c], xr = new float[c], dxr = new float[c];
          for (int blk = fromBlock; blk < toBlock; blk++) {
            float[] dgB = dgPart[blk], dbB = dbPart[blk];
            int end = Math.min(n, (blk + 1) * REDUCE_BLOCK);
            for (int i = blk * REDUCE_BLOCK; i < end; i++) {
              if (vector) vectorRowBackward(dy, x, stats, dx, accumulate, gv, dgB, dbB, p1, p2, i);
              else rowBackward(dy, x, stats, dx, accumulate, gv, dgB, dbB, p1, p2, dyr, xr, dxr, i);
            }
          }
        });
    if (gw == null) return; // frozen (a LoRA run)
    for (int blk = 0; blk < blocks; blk++) {
      g.addGradient(gw, dgPart[blk]);
      if (b != null) b.addGradient(gw, dbPart[blk]);
    }
  }

  /** One row of {@link #backward} on row copies. */
  private void rowBackward(
      ByteBuffer dy,
      ByteBuffer x,
      float[] stats,
      ByteBuffer dx,
      boolean accumulate,
      float[] gv,
      float[] dgB,
      float[] dbB,
      float[] p1,
      float[] p2,
      float[] dyr,
      float[] xr,
      float[] dxr,
      int i) {
    int o = i * c;
    dy.asFloatBuffer().get(o, dyr, 0, c);
    x.asFloatBuffer().get(o, xr, 0, c);
    float mean = stats[2 * i], rstd = stats[2 * i + 1];
    java.util.Arrays.fill(p1, 0f);
    java.util.Arrays.fill(p2, 0f);
    for (int k = 0; k < c; k++) {
      float d = dyr[k];
      float xh = (xr[k] - mean) * rstd;
      float dxh = d * gv[k];
      xr[k] = xh; // x̂ from here on
      dyr[k] = dxh; // dx̂ from here on
      dgB[k] += d * xh;
      dbB[k] += d;
      p1[k % PARTS] += dxh;
      p2[k % PARTS] = Math.fma(dxh, xh, p2[k % PARTS]);
    }
    float m1 = rms ? 0f : combineParts(p1, 0) / c, m2 = combineParts(p2, 0) / c;
    if (accumulate) dx.asFloatBuffer().get(o, dxr, 0, c);
    for (int k = 0; k < c; k++) {
      float v = rstd * (dyr[k] - m1 - xr[k] * m2);
      dxr[k] = accumulate ? dxr[k] + v : v;
    }
    dx.asFloatBuffer().put(o, dxr, 0, c);
  }

  /** One row of {@link #backward} with the Vector API, in place on the buffers. */
  private void vectorRowBackward(
      ByteBuffer dy,
      ByteBuffer x,
      float[] stats,
      ByteBuffer dx,
      boolean accumulate,
      float[] gv,
      float[] dgB,
      float[] dbB,
      float[] p1,
      float[] p2,
      int i) {
    int o = i * c;
    float mean = stats[2 * i], rstd = stats[2 * i + 1];
    int k = ElementwiseVector.normGradients(dy, x, o, c, mean, rstd, gv, dgB, dbB, p1, p2);
    for (; k < c; k++) {
      float d = dy.getFloat(4 * (o + k));
      float xh = (x.getFloat(4 * (o + k)) - mean) * rstd;
      float dxh = d * gv[k];
      dgB[k] += d * xh;
      dbB[k] += d;
      p1[k % PARTS] += dxh;
      p2[k % PARTS] = Math.fma(dxh, xh, p2[k % PARTS]);
    }
    float m1 = rms ? 0f : combineParts(p1, 0) / c, m2 = combineParts(p2, 0) / c;
    k = ElementwiseVector.normInput(dy, x, dx, o, c, mean, rstd, gv, m1, m2, accumulate);
    for (; k < c; k++) {
      float xh = (x.getFloat(4 * (o + k)) - mean) * rstd;
      float dxh = dy.getFloat(4 * (o + k)) * gv[k];
      float v = rstd * (dxh - m1 - xh * m2);
      dx.putFloat(4 * (o + k), accumulate ? dx.getFloat(4 * (o + k)) + v : v);
    }
  }
}
