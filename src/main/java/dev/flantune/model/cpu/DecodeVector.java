package dev.flantune.model.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Panels}' product on the JDK's Vector API: 8 rows × one panel (two registers) in sixteen
 * accumulators, one broadcast and two fused multiply-adds per row and k; a single row for the rest.
 * Loaded only when the module is present.
 */
final class DecodeVector {
  private DecodeVector() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** tile[r·4L, (r + 1)·4L) = x[i + r]·(panel p) for r in [0, 4): no bias, not accumulated. */
  static void rows4(Panels w, float[][] x, int i, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    float[] b = w.w;
    float[] x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    // Accumulators start at 0 and go to a plain tile after the loop; bias, accumulation and the
    // last panel's padding are the caller's scalar loop. With masked or conditional vector stores
    // here C2 fell back to boxed vectors after the first calls (181 -> 5 GFLOP/s).
    FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
    FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
    FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
    int bo = p * kk * 4 * l;
    for (int k = 0; k < kk; k++, bo += 4 * l) {
      FloatVector b0 = FloatVector.fromArray(F, b, bo), b1 = FloatVector.fromArray(F, b, bo + l);
      FloatVector b2 = FloatVector.fromArray(F, b, bo + 2 * l);
      FloatVector b3 = FloatVector.fromArray(F, b, bo + 3 * l);
      FloatVector v = FloatVector.broadcast(F, x0[k]);
      s00 = v.fma(b0, s00);
      s01 = v.fma(b1, s01);
      s02 = v.fma(b2, s02);
      s03 = v.fma(b3, s03);
      v = FloatVector.broadcast(F, x1[k]);
      s10 = v.fma(b0, s10);
      s11 = v.fma(b1, s11);
      s12 = v.fma(b2, s12);
      s13 = v.fma(b3, s13);
      v = FloatVector.broadcast(F, x2[k]);
      s20 = v.fma(b0, s20);
      s21 = v.fma(b1, s21);
      s22 = v.fma(b2, s22);
      s23 = v.fma(b3, s23);
      v = FloatVector.broadcast(F, x3[k]);
      s30 = v.fma(b0, s30);
      s31 = v.fma(b1, s31);
      s32 = v.fma(b2, s32);
      s33 = v.fma(b3, s33);
    }
    s00.intoArray(tile, 0);
    s01.intoArray(tile, l);
    s02.intoArray(tile, 2 * l);
    s03.intoArray(tile, 3 * l);
    s10.intoArray(tile, 4 * l);
    s11.intoArray(tile, 5 * l);
    s12.intoArray(tile, 6 * l);
    s13.intoArray(tile, 7 * l);
    s20.intoArray(tile, 8 * l);
    s21.intoArray(tile, 9 * l);
    s22.intoArray(tile, 10 * l);
    s23.intoArray(tile, 11 * l);
    s30.intoArray(tile, 12 * l);
    s31.intoArray(tile, 13 * l);
    s32.intoArray(tile, 14 * l);
    s33.intoArray(tile, 15 * l);
  }

  /** tile[0, 4L) = x·(panel p). */
  static void row1(Panels w, float[] x, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    float[] b = w.w;
    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
    int bo = p * kk * 4 * l;
    for (int k = 0; k < kk; k++, bo += 4 * l) {
      FloatVector v = FloatVector.broadcast(F, x[k]);
      s0 = v.fma(FloatVector.fromArray(F, b, bo), s0);
      s1 = v.fma(FloatVector.fromArray(F, b, bo + l), s1);
      s2 = v.fma(FloatVector.fromArray(F, b, bo + 2 * l), s2);
      s3 = v.fma(FloatVector.fromArray(F, b, bo + 3 * l), s3);
    }
    s0.intoArray(tile, 0);
    s1.intoArray(tile, l);
    s2.intoArray(tile, 2 * l);
    s3.intoArray(tile, 3 * l);
  }

  /** {@link #rows4} with the panels in native memory. */
  static void rows4(Panels w, ByteBuffer b, float[][] x, int i, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    ByteOrder o = ByteOrder.nativeOrder();
    float[] x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    FloatVector s00 = FloatVector.zero(F), s01 = s00, s02 = s00, s03 = s00;
    FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
    FloatVector s20 = s00, s21 = s00, s22 = s00, s23 = s00;
    FloatVector s30 = s00, s31 = s00, s32 = s00, s33 = s00;
    int bo = 4 * p * kk * 4 * l;
    for (int k = 0; k < kk; k++, bo += 16 * l) {
      FloatVector b0 = FloatVector.fromByteBuffer(F, b, bo, o);
      FloatVector b1 = FloatVector.fromByteBuffer(F, b, bo + 4 * l, o);
      FloatVector b2 = FloatVector.fromByteBuffer(F, b, bo + 8 * l, o);
      FloatVector b3 = FloatVector.fromByteBuffer(F, b, bo + 12 * l, o);
      FloatVector v = FloatVector.broadcast(F, x0[k]);
      s00 = v.fma(b0, s00);
      s01 = v.fma(b1, s01);
      s02 = v.fma(b2, s02);
      s03 = v.fma(b3, s03);
      v = FloatVector.broadcast(F, x1[k]);
      s10 = v.fma(b0, s10);
      s11 = v.fma(b1, s11);
      s12 = v.fma(b2, s12);
      s13 = v.fma(b3, s13);
      v = FloatVector.broadcast(F, x2[k]);
      s20 = v.fma(b0, s20);
      s21 = v.fma(b1, s21);
      s22 = v.fma(b2, s22);
      s23 = v.fma(b3, s23);
      v = FloatVector.broadcast(F, x3[k]);
      s30 = v.fma(b0, s30);
      s31 = v.fma(b1, s31);
      s32 = v.fma(b2, s32);
      s33 = v.fma(b3, s33);
    }
    s00.intoArray(tile, 0);
    s01.intoArray(tile, l);
    s02.intoArray(tile, 2 * l);
    s03.intoArray(tile, 3 * l);
    s10.intoArray(tile, 4 * l);
    s11.intoArray(tile, 5 * l);
    s12.intoArray(tile, 6 * l);
    s13.intoArray(tile, 7 * l);
    s20.intoArray(tile, 8 * l);
    s21.intoArray(tile, 9 * l);
    s22.intoArray(tile, 10 * l);
    s23.intoArray(tile, 11 * l);
    s30.intoArray(tile, 12 * l);
    s31.intoArray(tile, 13 * l);
    s32.intoArray(tile, 14 * l);
    s33.intoArray(tile, 15 * l);
  }

  /** {@link #row1} with the panels in native memory. */
  static void row1(Panels w, ByteBuffer b, float[] x, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    ByteOrder o = ByteOrder.nativeOrder();
    FloatVector s0 = FloatVector.zero(F), s1 = s0, s2 = s0, s3 = s0;
    int bo = 4 * p * kk * 4 * l;
    for (int k = 0; k < kk; k++, bo += 16 * l) {
      FloatVector v = FloatVector.broadcast(F, x[k]);
      s0 = v.fma(FloatVector.fromByteBuffer(F, b, bo, o), s0);
      s1 = v.fma(FloatVector.fromByteBuffer(F, b, bo + 4 * l, o), s1);
      s2 = v.fma(FloatVector.fromByteBuffer(F, b, bo + 8 * l, o), s2);
      s3 = v.fma(FloatVector.fromByteBuffer(F, b, bo + 12 * l, o), s3);
    }
    s0.intoArray(tile, 0);
    s1.intoArray(tile, l);
    s2.intoArray(tile, 2 * l);
    s3.intoArray(tile, 3 * l);
  }

  /** Σ a[aOff + i]·b[bOff + i] over i in [0, n): lane-wise fused multiply-adds, then the rest. */
  static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    int l = F.length(), i = 0;
    FloatVector s = FloatVector.zero(F);
    for (; i + l <= n; i += l)
      s = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), s);
    float r = s.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    for (; i < n; i++) r = Math.fma(a[aOff + i], b[bOff + i], r);
    return r;
  }

  /**
   * out[o, o + n) = Σ_s w[s]·v[base + s·n, base + s·n + n) over s in [0, count), for n a multiple
   * of the lane count.
   */
  static void weightedSum(float[] w, int count, float[] v, int base, int n, float[] out, int o) {
    int l = F.length();
    for (int e = 0; e < n; e += l) {
      FloatVector acc = FloatVector.zero(F);
      for (int s = 0, at = base + e; s < count; s++, at += n)
        acc = FloatVector.broadcast(F, w[s]).fma(FloatVector.fromArray(F, v, at), acc);
      acc.intoArray(out, o + e);
    }
  }
}
