package dev.flantune.model.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The optimizer passes as they were before the Vector API kernels, element by element on Java
 * arrays: the references {@link OptimizerKernels} must equal bit for bit.
 */
public final class OptimizerReference {
  private OptimizerReference() {}

  /** Σ x[i]² over x[0, m) in fp64 as eight interleaved partial sums combined pairwise. */
  public static double sumOfSquares(float[] x, int m) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= m; i += 8) {
      double a0 = x[i], a1 = x[i + 1], a2 = x[i + 2], a3 = x[i + 3];
      double a4 = x[i + 4], a5 = x[i + 5], a6 = x[i + 6], a7 = x[i + 7];
      s0 += a0 * a0;
      s1 += a1 * a1;
      s2 += a2 * a2;
      s3 += a3 * a3;
      s4 += a4 * a4;
      s5 += a5 * a5;
      s6 += a6 * a6;
      s7 += a7 * a7;
    }
    for (; i < m; i++) s0 += (double) x[i] * x[i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /**
   * AdamW over [from, to) of the arrays, the parameters below {@code decayedEnd} multiplied by
   * {@code decay} first; the gradient written back scaled (when the scale is not 1) or zeroed.
   */
  public static void adamW(
      float[] p,
      float[] g,
      float[] m,
      float[] v,
      int from,
      int to,
      int decayedEnd,
      float decay,
      OptimizerKernels.AdamWStep k) {
    for (int i = from; i < to; i++) {
      float gi = g[i];
      if (k.gradScale() != 1f) gi *= k.gradScale();
      g[i] = k.zeroGradients() ? 0f : gi;
      if (i < decayedEnd) p[i] *= decay;
      float mi = m[i] * k.beta1() + gi * k.oneMinusBeta1();
      float vi = v[i] * k.beta2() + gi * gi * k.oneMinusBeta2();
      m[i] = mi;
      v[i] = vi;
      float denom = (float) Math.sqrt(vi) / k.sqrtBc2() + k.eps();
      p[i] -= k.stepSize() * (mi / denom);
    }
  }

  /** A direct native-order buffer holding x. */
  public static ByteBuffer direct(float[] x) {
    ByteBuffer b = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.nativeOrder());
    b.asFloatBuffer().put(x);
    return b;
  }

  /** The floats of a direct buffer. */
  public static float[] floats(ByteBuffer b) {
    float[] x = new float[b.capacity() / 4];
    b.order(ByteOrder.nativeOrder()).asFloatBuffer().get(0, x);
    return x;
  }
}
