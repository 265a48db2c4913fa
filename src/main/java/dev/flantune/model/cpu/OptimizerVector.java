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
  private static final VectorSpecies<Double> D4 = DoubleVector.SPECIES_256;
  private static final VectorSpecies<Double> D8 = DoubleVector.SPECIES_512;
  private static final VectorOperators.Conversion<Float, Double> F2D = VectorOperators.F2D;
  private static final ByteOrder O = ByteOrder.nativeOrder();

  static int doubleLanes() {
    return DoubleVector.SPECIES_PREFERRED.length();
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
   * {@link OptimizerKernels#sumOfSquares} for the whole groups of eight, the eight sums added into
   * {@code s}; returns how many elements it did. One 8-lane fp64 vector where those are native
   * (AVX-512), else two 4-lane ones.
   */
  static int sumOfSquares(ByteBuffer x, int off, int n, double[] s) {
    return DoubleVector.SPECIES_PREFERRED.length() >= 8
        ? sumOfSquares8(x, off, n, s)
        : sumOfSquares4x2(x, off, n, s);
  }

  /**
   * Sums 0–7 in the lanes of one vector, fed by whole preferred float vectors widened part by part
   * (each part is the next group of eight, so each lane still adds its elements in order); the
   * groups of eight after the last whole float vector are added lane by lane in the same order.
   * Only the preferred float species is loaded: a second FloatVector shape in the process pollutes
   * the JIT's shared Vector API call sites (see {@link Simd#sum}).
   */
  static int sumOfSquares8(ByteBuffer x, int off, int n, double[] s) {
    int l = F.length(), parts = l / 8;
    DoubleVector acc = DoubleVector.zero(D8);
    int i = 0;
    for (; i + 2 * l <= n; i += 2 * l) { // two loads per iteration: half the loop's overhead
      FloatVector a = FloatVector.fromByteBuffer(F, x, 4 * (off + i), O);
      FloatVector b = FloatVector.fromByteBuffer(F, x, 4 * (off + i + l), O);
      for (int p = 0; p < parts; p++) acc = addSquares(acc, a, p);
      for (int p = 0; p < parts; p++) acc = addSquares(acc, b, p);
    }
    for (; i + l <= n; i += l) {
      FloatVector a = FloatVector.fromByteBuffer(F, x, 4 * (off + i), O);
      for (int p = 0; p < parts; p++) acc = addSquares(acc, a, p);
    }
    double[] t = acc.toArray();
    i = addGroupsOfEight(x, off, i, n, t);
    for (int j = 0; j < 8; j++) s[j] += t[j];
    return i;
  }

  private static DoubleVector addSquares(DoubleVector acc, FloatVector x, int part) {
    DoubleVector a = (DoubleVector) x.convertShape(F2D, acc.species(), part);
    return acc.add(a.mul(a));
  }

  /**
   * t[j] += x[i + j]² for the whole groups of eight from i (the lanes' own order); returns where it
   * stopped.
   */
  private static int addGroupsOfEight(ByteBuffer x, int off, int i, int n, double[] t) {
    for (; i + 8 <= n; i += 8) {
      for (int j = 0; j < 8; j++) {
        double a = x.getFloat(4 * (off + i + j));
        t[j] += a * a;
      }
    }
    return i;
  }

  /**
   * Sums 0–3 in the lanes of one 4-lane vector, 4–7 in another, fed by whole preferred float
   * vectors widened four floats at a time (parts alternate between the two).
   */
  static int sumOfSquares4x2(ByteBuffer x, int off, int n, double[] s) {
    int l = F.length(), parts = l / 4;
    DoubleVector lo = DoubleVector.zero(D4), hi = lo;
    int i = 0;
    for (; i + l <= n; i += l) {
      FloatVector a = FloatVector.fromByteBuffer(F, x, 4 * (off + i), O);
      for (int p = 0; p < parts; p += 2) {
        lo = addSquares(lo, a, p);
        hi = addSquares(hi, a, p + 1);
      }
    }
    double[] t = new double[8];
    lo.intoArray(t, 0);
    hi.intoArray(t, 4);
    i = addGroupsOfEight(x, off, i, n, t);
    for (int j = 0; j < 8; j++) s[j] += t[j];
    return i;
  }
}
