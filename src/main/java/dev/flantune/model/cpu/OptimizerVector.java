package dev.flantune.model.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link OptimizerKernels}' passes on the JDK's Vector API, reading and writing the off-heap
 * buffers in place. Loaded only when the module is present; each lane does exactly the plain loops'
 * arithmetic (no fused multiply-adds where they have none, same order).
 */
final class OptimizerVector {
  private OptimizerVector() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
  private static final VectorOperators.Conversion<Float, Double> F2D = VectorOperators.F2D;
  private static final ByteOrder O = ByteOrder.nativeOrder();

  /** fp64 lanes per vector; the sums need 4 or 8 (half the float lanes: AVX2 or AVX-512). */
  static int doubleLanes() {
    return D.length();
  }

  /**
   * {@link OptimizerKernels#adamW} for the whole vectors from {@code from}; returns where it
   * stopped.
   */
  static int adamW(
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
      OptimizerKernels.AdamWStep k) {
    int l = F.length(), i = from;
    float b1 = k.beta1(), ob1 = k.oneMinusBeta1(), b2 = k.beta2(), ob2 = k.oneMinusBeta2();
    float bc2 = k.sqrtBc2(), eps = k.eps(), stepSize = k.stepSize(), scale = k.gradScale();
    boolean zero = k.zeroGradients(), writeScaled = !zero && scale != 1f;
    FloatVector zeros = FloatVector.zero(F);
    // x·1 is x, so the unscaled gradient and the undecayed parameters go through the same
    // multiplications as the others: no vector merges two paths (C2 boxes those).
    for (; i + l <= to; i += l) {
      int pi = 4 * (pOff + i), gi = 4 * (gOff + i), mi = 4 * (mOff + i), vi = 4 * (vOff + i);
      FloatVector gv = FloatVector.fromByteBuffer(F, g, gi, O).mul(scale);
      if (zero) zeros.intoByteBuffer(g, gi, O);
      else if (writeScaled) gv.intoByteBuffer(g, gi, O);
      FloatVector mv = FloatVector.fromByteBuffer(F, m, mi, O).mul(b1).add(gv.mul(ob1));
      FloatVector vv = FloatVector.fromByteBuffer(F, v, vi, O).mul(b2).add(gv.mul(gv).mul(ob2));
      mv.intoByteBuffer(m, mi, O);
      vv.intoByteBuffer(v, vi, O);
      FloatVector denom = vv.sqrt().div(bc2).add(eps);
      FloatVector pv = FloatVector.fromByteBuffer(F, p, pi, O).mul(decay);
      pv.sub(mv.div(denom).mul(stepSize)).intoByteBuffer(p, pi, O);
    }
    return i;
  }

  /**
   * {@link OptimizerKernels#sumOfSquares} for whole groups of eight, the eight sums added into
   * {@code s}; returns how many elements it did (the caller does the rest, fewer than 16, in groups
   * of eight). Only the preferred float species is used, a second float shape pollutes the Vector
   * API's shared call sites (see {@link Simd#dot}): fp64 lanes are the low half of a float vector
   * loaded where they start, widened ({@code convertShape} part 0). The loads overlap, but the
   * upper half (part 1) measured 10-25% slower than a second load on AVX-512 (2.54-2.63 vs
   * 2.07-2.41 ms over 16M floats). Sum j still adds elements j, j + 8, j + 16, … in order.
   */
  static int sumOfSquares(ByteBuffer x, int off, int n, double[] s) {
    return D.length() == 8 ? sumOfSquares8(x, off, n, s) : sumOfSquares4x2(x, off, n, s);
  }

  /**
   * Sums 0–7 in the lanes of one 8-lane fp64 vector; four groups per iteration (each lane still
   * adds its elements in order: the unrolling only saves the loop's and the buffer accesses'
   * overhead, about half the time with direct buffers).
   */
  private static int sumOfSquares8(ByteBuffer x, int off, int n, double[] s) {
    DoubleVector acc = DoubleVector.zero(D);
    int i = 0;
    for (; i + 40 <= n; i += 32) { // the fourth load reads floats [i + 24, i + 40)
      int at = 4 * (off + i);
      DoubleVector a = widen(x, at), b = widen(x, at + 32);
      DoubleVector c = widen(x, at + 64), d = widen(x, at + 96);
      acc = acc.add(a.mul(a));
      acc = acc.add(b.mul(b));
      acc = acc.add(c.mul(c));
      acc = acc.add(d.mul(d));
    }
    for (; i + 16 <= n; i += 8) {
      DoubleVector a = widen(x, 4 * (off + i));
      acc = acc.add(a.mul(a));
    }
    for (int j = 0; j < 8; j++) s[j] += acc.lane(j);
    return i;
  }

  /** Sums 0–3 in the lanes of one 4-lane fp64 vector, 4–7 in another. */
  private static int sumOfSquares4x2(ByteBuffer x, int off, int n, double[] s) {
    DoubleVector lo = DoubleVector.zero(D), hi = lo;
    int i = 0;
    for (; i + 12 <= n; i += 8) { // the second load reads floats [i + 4, i + 12)
      int at = 4 * (off + i);
      DoubleVector a = widen(x, at), b = widen(x, at + 16);
      lo = lo.add(a.mul(a));
      hi = hi.add(b.mul(b));
    }
    for (int j = 0; j < 4; j++) {
      s[j] += lo.lane(j);
      s[j + 4] += hi.lane(j);
    }
    return i;
  }

  /** The floats from byte {@code at} in the low half of a preferred float vector, as fp64. */
  private static DoubleVector widen(ByteBuffer x, int at) {
    return (DoubleVector) FloatVector.fromByteBuffer(F, x, at, O).convertShape(F2D, D, 0);
  }
}
