package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Simd.*;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Simd}'s kernels on the JDK's Vector API. Loaded only when the module is present; each lane
 * does exactly the scalar path's arithmetic (same fused multiply-adds, same order).
 */
final class SimdVector {
  private SimdVector() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  static int lanes() {
    return F.length();
  }

  /** x[off, off + n) ← e^(x − shift) for the whole vectors; returns how many elements it did. */
  static int expShifted(float[] x, int off, int n, float shift) {
    int l = F.length(), i = 0;
    for (; i + l <= n; i += l)
      exp(FloatVector.fromArray(F, x, off + i).sub(shift)).intoArray(x, off + i);
    return i;
  }

  /** {@link Simd#expMinus} over the whole vectors; returns how many elements it did. */
  static int expMinusFlushed(float[] x, int off, int n, float shift) {
    int l = F.length(), i = 0;
    for (; i + l <= n; i += l)
      expFlushed(FloatVector.fromArray(F, x, off + i).sub(shift)).intoArray(x, off + i);
    return i;
  }

  /** {@link Simd#expAccumulate} (lanes ≤ PARTS, n a multiple of PARTS). */
  static void expAccumulate(
      float[] x, int off, int n, float shift, float[] parts, int pOff, float corr) {
    int l = F.length();
    // Each vector of partial sums stays in a register while the row streams by (a store and a
    // reload per vector made a dependency through memory: 40% of the loop's time).
    for (int j = 0; j < PARTS; j += l) {
      FloatVector sum = FloatVector.fromArray(F, parts, pOff + j).mul(corr);
      for (int i = j; i < n; i += PARTS) {
        FloatVector e = expFlushed(FloatVector.fromArray(F, x, off + i).sub(shift));
        e.intoArray(x, off + i);
        sum = sum.add(e);
      }
      sum.intoArray(parts, pOff + j);
    }
  }

  // The exps below are written out in full, with no helper that takes or returns a vector: when a
  // kernel is inlined into a large caller, C2 stops inlining at its node budget
  // (NodeCountInliningCutoff), and a vector passed to a call that was not inlined is boxed. The
  // inlining log showed exactly that for a shared reduction helper inside the attention's forward.
  // Hence exp and expFlushed repeat the reduction and the polynomial.

  /** {@link Simd#expFlushed} lane by lane: one factor 2^k, then 0 where x is below EXP_FLUSH. */
  private static FloatVector expFlushed(FloatVector x) {
    FloatVector v = x.max(EXP_FLUSH).min(EXP_MAX); // no lane's k is below −126
    FloatVector t = v.fma(LOG2E, ROUND);
    FloatVector k = t.sub(ROUND);
    FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), v);
    r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
    FloatVector p = r.fma(P0, P1); // P0·r + P1, as Math.fma(P0, r, P1)
    p = p.fma(r, FloatVector.broadcast(F, P2));
    p = p.fma(r, FloatVector.broadcast(F, P3));
    p = p.fma(r, FloatVector.broadcast(F, P4));
    p = p.fma(r, FloatVector.broadcast(F, P5));
    p = p.fma(r.mul(r), r).add(1f);
    IntVector ki = t.reinterpretAsInts().sub(ROUND_BITS);
    FloatVector s = ki.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return p.mul(s).blend(0f, x.lt(EXP_FLUSH));
  }

  /** {@link Simd#exp} lane by lane (the elementwise kernels use it too). */
  static FloatVector exp(FloatVector x) {
    FloatVector v = x.max(EXP_MIN).min(EXP_MAX);
    FloatVector t = v.fma(LOG2E, ROUND);
    FloatVector k = t.sub(ROUND);
    FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), v);
    r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
    FloatVector p = r.fma(P0, P1); // P0·r + P1, as Math.fma(P0, r, P1)
    p = p.fma(r, FloatVector.broadcast(F, P2));
    p = p.fma(r, FloatVector.broadcast(F, P3));
    p = p.fma(r, FloatVector.broadcast(F, P4));
    p = p.fma(r, FloatVector.broadcast(F, P5));
    p = p.fma(r.mul(r), r).add(1f);
    IntVector ki = t.reinterpretAsInts().sub(ROUND_BITS);
    IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
    FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return p.mul(s1).mul(s2);
  }

  /** {@link Simd#max} over the whole vectors (n ≥ lanes). */
  static float max(float[] x, int off, int n, float init) {
    int l = F.length();
    FloatVector m = FloatVector.broadcast(F, init);
    for (int i = 0; i + l <= n; i += l) m = m.max(FloatVector.fromArray(F, x, off + i));
    return m.reduceLanes(VectorOperators.MAX);
  }

  /** {@link Simd#scale} over the whole vectors; returns how many elements it did. */
  static int scale(float[] x, int off, int n, float c) {
    int l = F.length(), i = 0;
    for (; i + l <= n; i += l) FloatVector.fromArray(F, x, off + i).mul(c).intoArray(x, off + i);
    return i;
  }

  /** {@link Simd#softmaxGrad} over the whole vectors; returns how many elements it did. */
  static int softmaxGrad(float[] p, float[] ds, int off, int n, float delta) {
    int l = F.length(), i = 0;
    for (; i + l <= n; i += l) {
      FloatVector d = FloatVector.fromArray(F, ds, off + i).sub(delta);
      FloatVector.fromArray(F, p, off + i).mul(d).intoArray(ds, off + i);
    }
    return i;
  }

  /**
   * {@link Simd#sum} (n ≥ 8, 8-lane machines): its eight partial sums are the lanes of one vector,
   * added to in the same order, then combined the same way.
   */
  static float sum(float[] x, int off, int n) {
    FloatVector s = FloatVector.zero(F);
    int i = 0;
    for (; i + 8 <= n; i += 8) s = s.add(FloatVector.fromArray(F, x, off + i));
    float s0 = s.lane(0);
    for (; i < n; i++) s0 += x[off + i];
    return ((s0 + s.lane(1)) + (s.lane(2) + s.lane(3)))
        + ((s.lane(4) + s.lane(5)) + (s.lane(6) + s.lane(7)));
  }

  /**
   * {@link Simd#dot}'s partial sums over the whole blocks of {@link Simd#PARTS} elements (lanes ≤
   * PARTS): sums j to j + lanes − 1 are one vector's lanes, added to block by block in order, then
   * stored to s[j…]. Returns how many elements it did.
   */
  static int dotParts(float[] a, int aOff, float[] b, int bOff, int n, float[] s) {
    int l = F.length(), whole = n / PARTS * PARTS;
    for (int j = 0; j < PARTS; j += l) {
      FloatVector acc = FloatVector.zero(F);
      for (int i = j; i < whole; i += PARTS) {
        acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
      }
      acc.intoArray(s, j);
    }
    return whole;
  }

  // Simd#mm in blocks of 4 rows × 2 vectors, eight accumulators in registers, one kernel per
  // layout of a. Each kernel addresses a with a fixed stride of 1 (rows of a, or the 4 rows' values
  // side by side), so it runs at full speed compiled on its own: one kernel for both layouts, with
  // the strides as arguments, reached ~126 GFLOP/s unless C2 inlined it with constant strides
  // (~158), and whether it did depended on the caller's inlining budget. These reach ~158 either
  // way. The two bodies differ only in how a is addressed; merging them brings back the variable
  // stride.

  /** {@link Simd#mm} with a row-major: a(i, k) = a[aOff + i·ars + k]. */
  static void mmRows(
      float[] a,
      int aOff,
      int ars,
      float[] b,
      int bOff,
      int bs,
      float[] c,
      int cOff,
      int cs,
      int m,
      int n,
      int kk,
      boolean acc) {
    int l = F.length();
    for (int i = 0; i < m; i += 4) {
      int a0 = aOff + i * ars, a1 = a0 + ars, a2 = a1 + ars, a3 = a2 + ars;
      for (int j = 0; j < n; j += 2 * l) {
        int c0 = cOff + i * cs + j, c1 = c0 + cs, c2 = c1 + cs, c3 = c2 + cs;
        // Accumulators start at 0 and c is added after the loop: a vector that merges two paths
        // (loaded or zero) is boxed by C2, which made this loop ~10× slower.
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00;
        FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        int bo = bOff + j;
        for (int k = 0; k < kk; k++, bo += bs) {
          FloatVector b0 = FloatVector.fromArray(F, b, bo),
              b1 = FloatVector.fromArray(F, b, bo + l);
          FloatVector x = FloatVector.broadcast(F, a[a0 + k]);
          s00 = x.fma(b0, s00);
          s01 = x.fma(b1, s01);
          x = FloatVector.broadcast(F, a[a1 + k]);
          s10 = x.fma(b0, s10);
          s11 = x.fma(b1, s11);
          x = FloatVector.broadcast(F, a[a2 + k]);
          s20 = x.fma(b0, s20);
          s21 = x.fma(b1, s21);
          x = FloatVector.broadcast(F, a[a3 + k]);
          s30 = x.fma(b0, s30);
          s31 = x.fma(b1, s31);
        }
        store(s00, c, c0, acc);
        store(s01, c, c0 + l, acc);
        store(s10, c, c1, acc);
        store(s11, c, c1 + l, acc);
        store(s20, c, c2, acc);
        store(s21, c, c2 + l, acc);
        store(s30, c, c3, acc);
        store(s31, c, c3 + l, acc);
      }
    }
  }

  /** {@link Simd#mm} with a column-major (read transposed): a(i, k) = a[aOff + i + k·acs]. */
  static void mmCols(
      float[] a,
      int aOff,
      int acs,
      float[] b,
      int bOff,
      int bs,
      float[] c,
      int cOff,
      int cs,
      int m,
      int n,
      int kk,
      boolean acc) {
    int l = F.length();
    for (int i = 0; i < m; i += 4) {
      for (int j = 0; j < n; j += 2 * l) {
        int c0 = cOff + i * cs + j, c1 = c0 + cs, c2 = c1 + cs, c3 = c2 + cs;
        FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00;
        FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
        int bo = bOff + j, ao = aOff + i;
        for (int k = 0; k < kk; k++, bo += bs, ao += acs) {
          FloatVector b0 = FloatVector.fromArray(F, b, bo),
              b1 = FloatVector.fromArray(F, b, bo + l);
          FloatVector x = FloatVector.broadcast(F, a[ao]);
          s00 = x.fma(b0, s00);
          s01 = x.fma(b1, s01);
          x = FloatVector.broadcast(F, a[ao + 1]);
          s10 = x.fma(b0, s10);
          s11 = x.fma(b1, s11);
          x = FloatVector.broadcast(F, a[ao + 2]);
          s20 = x.fma(b0, s20);
          s21 = x.fma(b1, s21);
          x = FloatVector.broadcast(F, a[ao + 3]);
          s30 = x.fma(b0, s30);
          s31 = x.fma(b1, s31);
        }
        store(s00, c, c0, acc);
        store(s01, c, c0 + l, acc);
        store(s10, c, c1, acc);
        store(s11, c, c1 + l, acc);
        store(s20, c, c2, acc);
        store(s21, c, c2 + l, acc);
        store(s30, c, c3, acc);
        store(s31, c, c3 + l, acc);
      }
    }
  }

  /** c[at, at + lanes) = s, or += s. */
  private static void store(FloatVector s, float[] c, int at, boolean acc) {
    if (acc) s.add(FloatVector.fromArray(F, c, at)).intoArray(c, at);
    else s.intoArray(c, at);
  }
}
