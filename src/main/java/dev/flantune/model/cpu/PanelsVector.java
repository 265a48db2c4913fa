package dev.flantune.model.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Panels}' product on the JDK's Vector API: 8 rows × one panel (two registers) in sixteen
 * accumulators, one broadcast and two fused multiply-adds per row and k; a single row for the rest.
 * Loaded only when the module is present.
 */
final class PanelsVector {
  private PanelsVector() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

  /** tile[r·2L, (r + 1)·2L) = x[i + r]·(panel p) for r in [0, 8): no bias, not accumulated. */
  static void rows8(Panels w, float[][] x, int i, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    float[] b = w.w;
    float[] x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    float[] x4 = x[i + 4], x5 = x[i + 5], x6 = x[i + 6], x7 = x[i + 7];
    // Accumulators start at 0 and go to a plain tile after the loop; bias, accumulation and the
    // last panel's padding are the caller's scalar loop. With masked or conditional vector stores
    // here C2 fell back to boxed vectors after the first calls (181 -> 5 GFLOP/s).
    FloatVector s00 = FloatVector.zero(F), s01 = s00, s10 = s00, s11 = s00;
    FloatVector s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    FloatVector s40 = s00, s41 = s00, s50 = s00, s51 = s00;
    FloatVector s60 = s00, s61 = s00, s70 = s00, s71 = s00;
    int bo = p * kk * 2 * l;
    for (int k = 0; k < kk; k++, bo += 2 * l) {
      FloatVector b0 = FloatVector.fromArray(F, b, bo), b1 = FloatVector.fromArray(F, b, bo + l);
      FloatVector v = FloatVector.broadcast(F, x0[k]);
      s00 = v.fma(b0, s00);
      s01 = v.fma(b1, s01);
      v = FloatVector.broadcast(F, x1[k]);
      s10 = v.fma(b0, s10);
      s11 = v.fma(b1, s11);
      v = FloatVector.broadcast(F, x2[k]);
      s20 = v.fma(b0, s20);
      s21 = v.fma(b1, s21);
      v = FloatVector.broadcast(F, x3[k]);
      s30 = v.fma(b0, s30);
      s31 = v.fma(b1, s31);
      v = FloatVector.broadcast(F, x4[k]);
      s40 = v.fma(b0, s40);
      s41 = v.fma(b1, s41);
      v = FloatVector.broadcast(F, x5[k]);
      s50 = v.fma(b0, s50);
      s51 = v.fma(b1, s51);
      v = FloatVector.broadcast(F, x6[k]);
      s60 = v.fma(b0, s60);
      s61 = v.fma(b1, s61);
      v = FloatVector.broadcast(F, x7[k]);
      s70 = v.fma(b0, s70);
      s71 = v.fma(b1, s71);
    }
    s00.intoArray(tile, 0);
    s01.intoArray(tile, l);
    s10.intoArray(tile, 2 * l);
    s11.intoArray(tile, 3 * l);
    s20.intoArray(tile, 4 * l);
    s21.intoArray(tile, 5 * l);
    s30.intoArray(tile, 6 * l);
    s31.intoArray(tile, 7 * l);
    s40.intoArray(tile, 8 * l);
    s41.intoArray(tile, 9 * l);
    s50.intoArray(tile, 10 * l);
    s51.intoArray(tile, 11 * l);
    s60.intoArray(tile, 12 * l);
    s61.intoArray(tile, 13 * l);
    s70.intoArray(tile, 14 * l);
    s71.intoArray(tile, 15 * l);
  }

  /** tile[0, 2L) = x·(panel p). */
  static void row1(Panels w, float[] x, int p, float[] tile) {
    int l = F.length(), kk = w.k;
    float[] b = w.w;
    FloatVector s0 = FloatVector.zero(F), s1 = s0;
    int bo = p * kk * 2 * l;
    for (int k = 0; k < kk; k++, bo += 2 * l) {
      FloatVector v = FloatVector.broadcast(F, x[k]);
      s0 = v.fma(FloatVector.fromArray(F, b, bo), s0);
      s1 = v.fma(FloatVector.fromArray(F, b, bo + l), s1);
    }
    s0.intoArray(tile, 0);
    s1.intoArray(tile, l);
  }
}
