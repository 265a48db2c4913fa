package dev.flantune.model.cpu;

import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/** {@link Norm} as it was before issue #17's vector kernels, for {@link ElementwiseTiming}. */
final class OldNorm {
  /** Rows per block of the gain/bias gradient sums: fixed, so the sums' order never varies. */
  private static final int REDUCE_BLOCK = 32;

  final Param g;
  final Param b; // null for RMSNorm
  final boolean rms;
  final float eps;
  final int c;

  OldNorm(Param g, Param b, boolean rms, double eps, int c) {
    this.g = g;
    this.b = b;
    this.rms = rms;
    this.eps = (float) eps;
    this.c = c;
  }

  /** One row ({@code out} may be {@code x}); μ and rstd to stats[2i], stats[2i + 1] if non-null. */
  void row(float[] x, float[] out, float[] gv, float[] bv, float[] stats, int i) {
    float mean = 0;
    if (!rms) {
      double sum = 0;
      for (int k = 0; k < c; k++) sum += x[k];
      mean = (float) (sum / c);
    }
    double sq = 0;
    for (int k = 0; k < c; k++) {
      float d = x[k] - mean;
      sq += d * d;
    }
    float rstd = (float) (1 / Math.sqrt(sq / c + eps));
    if (bv == null) for (int k = 0; k < c; k++) out[k] = (x[k] - mean) * rstd * gv[k];
    else for (int k = 0; k < c; k++) out[k] = (x[k] - mean) * rstd * gv[k] + bv[k];
    if (stats != null) {
      stats[2 * i] = mean;
      stats[2 * i + 1] = rstd;
    }
  }

  /** Every row of x [n, C] into out. */
  void forward(FloatBuffer x, FloatBuffer out, float[] stats, FloatBuffer pw, int n) {
    float[] gv = g.read(pw), bv = b == null ? null : b.read(pw);
    Parallel.range(
        n,
        3L * c,
        (from, to) -> {
          float[] row = new float[c];
          for (int i = from; i < to; i++) {
            x.get(i * c, row, 0, c);
            row(row, row, gv, bv, stats, i);
            out.put(i * c, row, 0, c);
          }
        });
  }

  /**
   * dx (+)= rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·g (RMSNorm: no mean(dx̂) term);
   * dg += Σ dy·x̂, db += Σ dy.
   */
  void backward(
      FloatBuffer dy,
      FloatBuffer x,
      float[] stats,
      FloatBuffer dx,
      boolean accumulate,
      FloatBuffer pw,
      FloatBuffer gw,
      int n) {
    float[] gv = g.read(pw);
    int blocks = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
    float[][] dgPart = new float[blocks][c], dbPart = new float[blocks][c];
    Parallel.range(
        blocks,
        REDUCE_BLOCK * 4L * c,
        (fromBlock, toBlock) -> {
          float[] dyr = new float[c], xr = new float[c], dxr = new float[c];
          for (int blk = fromBlock; blk < toBlock; blk++) {
            float[] dgB = dgPart[blk], dbB = dbPart[blk];
            int end = Math.min(n, (blk + 1) * REDUCE_BLOCK);
            for (int i = blk * REDUCE_BLOCK; i < end; i++) {
              int o = i * c;
              dy.get(o, dyr, 0, c);
              x.get(o, xr, 0, c);
              float mean = stats[2 * i], rstd = stats[2 * i + 1];
              double s1 = 0, s2 = 0;
              for (int k = 0; k < c; k++) {
                float d = dyr[k];
                float xh = (xr[k] - mean) * rstd;
                float dxh = d * gv[k];
                xr[k] = xh; // x̂ from here on
                dyr[k] = dxh; // dx̂ from here on
                dgB[k] += d * xh;
                dbB[k] += d;
                s1 += dxh;
                s2 += dxh * xh;
              }
              float m1 = rms ? 0f : (float) (s1 / c), m2 = (float) (s2 / c);
              if (accumulate) dx.get(o, dxr, 0, c);
              else java.util.Arrays.fill(dxr, 0f);
              for (int k = 0; k < c; k++) dxr[k] += rstd * (dyr[k] - m1 - xr[k] * m2);
              dx.put(o, dxr, 0, c);
            }
          }
        });
    if (gw == null) return; // frozen (a LoRA run)
    for (int blk = 0; blk < blocks; blk++) {
      g.addGradient(gw, dgPart[blk]);
      if (b != null) b.addGradient(gw, dbPart[blk]);
    }
  }
}
