package dev.flantune.model.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The optimizer's passes over flat fp32 buffers held off-heap (parameters, gradients, moments):
 * AdamW's update and the gradient norm's sum of squares. With the JDK's Vector API ({@link
 * OptimizerVector}) they read and write the buffers in place; without it, plain loops here give the
 * same bits (same operations in the same order per element, same partial sums).
 */
public final class OptimizerKernels {
  private OptimizerKernels() {}

  /** Whether the Vector API kernels run (see {@link Simd#VECTOR}). */
  public static final boolean VECTOR = Simd.VECTOR;

  /** The sum of squares on 4-lane fp64 vectors: only where those are native (AVX2 and up). */
  static final boolean VECTOR_SUMS = VECTOR && OptimizerVector.doubleLanes() >= 4;

  /**
   * Whether these kernels can reach {@code flat}: a CPU buffer of fp32 whose bytes are addressable
   * by int (below 2 GiB, 536M floats).
   */
  public static boolean reachable(INDArray flat) {
    return Nd4j.getEnvironment().isCPU()
        && flat.dataType() == DataType.FLOAT
        && 4L * (flat.offset() + flat.length()) <= Integer.MAX_VALUE;
  }

  /**
   * {@code flat}'s storage as bytes in native order; element i of flat is at float index offset +
   * i.
   */
  public static ByteBuffer bytes(INDArray flat) {
    return flat.data().asNio().order(ByteOrder.nativeOrder());
  }

  /**
   * One AdamW step's constants in fp32, PyTorch's: m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g·g; p ←
   * p − stepSize·(m / (√v / sqrtBc2 + ε)) where stepSize = lr/(1−β1ᵗ), after p ← decay·p. The
   * gradient is first scaled by {@code gradScale} (clipping) and then written back scaled, or as
   * zeros with {@code zeroGradients}.
   */
  public record AdamWStep(
      float beta1,
      float oneMinusBeta1,
      float beta2,
      float oneMinusBeta2,
      float sqrtBc2,
      float eps,
      float stepSize,
      float gradScale,
      boolean zeroGradients) {}

  /**
   * AdamW over elements [from, to) of p, g, m, v (float offsets pOff … into each buffer), with p
   * first multiplied by {@code decay} (1 outside the decayed prefix).
   */
  public static void adamW(
      ByteBuffer p,
      int pOff,
      ByteBuffer g,
      int gOff,
      ByteBuffer m,
      int mOff,
      ByteBuffer v,
      int vOff,
      int from,
      int to,
      float decay,
      AdamWStep k) {
    adamW(p, pOff, g, gOff, m, mOff, v, vOff, from, to, decay, k, VECTOR);
  }

  /** {@link #adamW} on the Vector API or not (tests compare the two). */
  static void adamW(
      ByteBuffer p,
      int pOff,
      ByteBuffer g,
      int gOff,
      ByteBuffer m,
      int mOff,
      ByteBuffer v,
      int vOff,
      int from,
      int to,
      float decay,
      AdamWStep k,
      boolean vector) {
    int i = from;
    if (vector) i = OptimizerVector.adamW(p, pOff, g, gOff, m, mOff, v, vOff, from, to, decay, k);
    if (i < to) adamWScalar(p, pOff, g, gOff, m, mOff, v, vOff, i, to, decay, k);
  }

  /**
   * {@link #adamW} as plain loops over chunks copied into Java arrays (the JIT vectorizes array
   * loops, not buffer loops): the path without the Vector API, and the vector kernel's tail.
   */
  static void adamWScalar(
      ByteBuffer pb,
      int pOff,
      ByteBuffer gb,
      int gOff,
      ByteBuffer mb,
      int mOff,
      ByteBuffer vb,
      int vOff,
      int from,
      int to,
      float decay,
      AdamWStep k) {
    FloatBuffer p = pb.asFloatBuffer(), g = gb.asFloatBuffer();
    FloatBuffer mt = mb.asFloatBuffer(), vt = vb.asFloatBuffer();
    float b1 = k.beta1(), ob1 = k.oneMinusBeta1(), b2 = k.beta2(), ob2 = k.oneMinusBeta2();
    float bc2 = k.sqrtBc2(), eps = k.eps(), stepSize = k.stepSize(), gradScale = k.gradScale();
    int chunk = Math.min(4096, to - from);
    float[] ps = new float[chunk], gs = new float[chunk], ms = new float[chunk];
    float[] vs = new float[chunk], zeros = k.zeroGradients() ? new float[chunk] : null;
    for (int at = from; at < to; at += chunk) {
      int len = Math.min(chunk, to - at);
      p.get(pOff + at, ps, 0, len);
      g.get(gOff + at, gs, 0, len);
      mt.get(mOff + at, ms, 0, len);
      vt.get(vOff + at, vs, 0, len);
      if (gradScale != 1f) {
        for (int i = 0; i < len; i++) gs[i] *= gradScale;
        if (zeros == null) g.put(gOff + at, gs, 0, len);
      }
      if (zeros != null) g.put(gOff + at, zeros, 0, len);
      if (decay != 1f) for (int i = 0; i < len; i++) ps[i] *= decay;
      for (int i = 0; i < len; i++) {
        float gi = gs[i];
        float mi = ms[i] * b1 + gi * ob1;
        float vi = vs[i] * b2 + gi * gi * ob2;
        ms[i] = mi;
        vs[i] = vi;
        float denom = (float) Math.sqrt(vi) / bc2 + eps;
        ps[i] -= stepSize * (mi / denom);
      }
      p.put(pOff + at, ps, 0, len);
      mt.put(mOff + at, ms, 0, len);
      vt.put(vOff + at, vs, 0, len);
    }
  }

  /**
   * Σ x[i]² over the floats x[off, off + n) in fp64, as eight interleaved partial sums (element i
   * goes to sum i mod 8, the tail after the last whole eight to sum 0) combined pairwise: a fixed
   * order, so the gradient norm is reproducible on every path, and eight independent additions in
   * flight instead of one dependent chain.
   */
  public static double sumOfSquares(ByteBuffer x, int off, int n) {
    return sumOfSquares(x, off, n, VECTOR_SUMS);
  }

  /** {@link #sumOfSquares(ByteBuffer, int, int)} on the Vector API or not. */
  static double sumOfSquares(ByteBuffer x, int off, int n, boolean vector) {
    double[] s = new double[8];
    int i = vector ? OptimizerVector.sumOfSquares(x, off, n, s) : 0;
    for (; i + 8 <= n; i += 8) {
      for (int j = 0; j < 8; j++) {
        double a = x.getFloat(4 * (off + i + j));
        s[j] += a * a;
      }
    }
    for (; i < n; i++) {
      double a = x.getFloat(4 * (off + i));
      s[0] += a * a;
    }
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  }
}
