package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The SIMD kernels: exp within a few ulp of the JDK's over the whole fp32 range (edges included),
 * the vector and scalar paths bit-identical, the tile product against plain sums.
 */
class SimdTest {
  /** Distance in units in the last place between a float and the exact value rounded to fp32. */
  private static long ulps(float got, double exact) {
    float want = (float) exact;
    return Math.abs((long) Float.floatToIntBits(got) - Float.floatToIntBits(want));
  }

  @Test
  void testsRunWithTheVectorApi() {
    assertTrue(Simd.VECTOR, "surefire's argLine adds jdk.incubator.vector");
  }

  @Test
  void expIsWithinTwoUlpOfTheJdkOnADenseGrid() {
    long worst = 0;
    float worstAt = 0;
    int n = 0;
    float[] grid = new float[1 << 20];
    for (float x = -110f; x <= 90f; x += 1.9e-4f) {
      grid[n++] = x;
      if (n == grid.length || x + 1.9e-4f > 90f) {
        float[] y = grid.clone();
        Simd.exp(y, 0, n);
        for (int i = 0; i < n; i++) {
          long u = ulps(y[i], Math.exp(grid[i]));
          assertEquals(Simd.exp(grid[i]), y[i], "vector and scalar paths at " + grid[i]);
          if (u > worst) {
            worst = u;
            worstAt = grid[i];
          }
        }
        n = 0;
      }
    }
    assertTrue(worst <= 2, "worst " + worst + " ulp at " + worstAt);
  }

  @Test
  void expEdges() {
    float[] x = {
      0f,
      -0f,
      88f,
      -88f,
      88.72f,
      88.73f,
      89f,
      1000f,
      -87.3f,
      -100f,
      -103.9f,
      -104f,
      -1e6f,
      Float.NaN,
      Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY,
      Float.MIN_VALUE,
      -Float.MIN_VALUE
    };
    // pad to whole vectors so every value also goes through the vector path
    float[] y = new float[64];
    System.arraycopy(x, 0, y, 0, x.length);
    Simd.exp(y, 0, y.length);
    for (int i = 0; i < x.length; i++) {
      double want = Math.exp(x[i]);
      assertEquals(Simd.exp(x[i]), y[i], "paths differ at " + x[i]);
      if (Double.isNaN(want)) assertTrue(Float.isNaN(y[i]), "NaN at " + x[i]);
      else if ((float) want == 0f || Float.isInfinite((float) want))
        assertEquals((float) want, y[i], "at " + x[i]);
      else assertTrue(ulps(y[i], want) <= 2, x[i] + ": " + y[i] + " vs " + want);
    }
    assertEquals(1f, Simd.exp(0f));
    assertEquals(Float.POSITIVE_INFINITY, Simd.exp(89f));
    assertEquals(0f, Simd.exp(-200f));
  }

  @Test
  void tileProductMatchesPlainSumsAndBothPathsAgreeBitForBit() {
    Random r = new Random(7);
    int l = 2 * Simd.LANES;
    for (int trial = 0; trial < 20; trial++) {
      int m = 4 * (1 + r.nextInt(5)), n = l * (1 + r.nextInt(3)), kk = 1 + r.nextInt(70);
      boolean transposed = r.nextBoolean(), acc = r.nextBoolean();
      int ars = transposed ? 1 : kk, acs = transposed ? m : 1;
      float[] a = rand(r, m * kk), b = rand(r, kk * n + 5), c0 = rand(r, m * n);
      float[] vec = c0.clone(), scalar = c0.clone();
      Simd.mm(a, 0, ars, acs, b, 5, n, vec, 0, n, m, n, kk, acc);
      Simd.mmScalar(a, 0, ars, acs, b, 5, n, scalar, 0, n, m, n, kk, acc);
      assertArrayEquals(scalar, vec, "vector vs scalar path");
      for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
          double s = acc ? c0[i * n + j] : 0;
          for (int k = 0; k < kk; k++) s += (double) a[i * ars + k * acs] * b[5 + k * n + j];
          assertEquals(s, vec[i * n + j], 1e-5 * (1 + Math.abs(s)));
        }
      }
    }
  }

  @Test
  void rowKernelsEqualTheirScalarDefinitions() {
    Random r = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      int n = r.nextInt(80), off = r.nextInt(9);
      float[] x = rand(r, off + n + 3), y = rand(r, off + n + 3);
      float init = r.nextBoolean() ? Float.NEGATIVE_INFINITY : (float) r.nextGaussian();
      float m = init;
      for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
      assertEquals(m, Simd.max(x, off, n, init), "max, n = " + n);

      float[] p8 = new float[8];
      for (int i = 0; i < n / 8 * 8; i++) p8[i % 8] += x[off + i];
      for (int i = n / 8 * 8; i < n; i++) p8[0] += x[off + i];
      float sum = ((p8[0] + p8[1]) + (p8[2] + p8[3])) + ((p8[4] + p8[5]) + (p8[6] + p8[7]));
      assertEquals(sum, Simd.sum(x, off, n), "sum (eight interleaved partial sums), n = " + n);

      float[] d16 = new float[16];
      for (int i = 0; i < n; i++) d16[i % 16] = Math.fma(x[off + i], y[i], d16[i % 16]);
      float dot = 0, half = 0;
      for (int j = 0; j < 16; j += 8) {
        float q =
            ((d16[j] + d16[j + 1]) + (d16[j + 2] + d16[j + 3]))
                + ((d16[j + 4] + d16[j + 5]) + (d16[j + 6] + d16[j + 7]));
        if (j == 0) half = q;
        else dot = half + q;
      }
      assertEquals(dot, Simd.dot(x, off, y, 0, n), "dot (sixteen partial sums), n = " + n);

      float c = (float) r.nextGaussian(), delta = (float) r.nextGaussian();
      float[] scaled = x.clone(), grad = y.clone(), exps = x.clone();
      Simd.scale(scaled, off, n, c);
      Simd.softmaxGrad(x, grad, off, n, delta);
      Simd.expMinus(exps, off, n, delta);
      for (int i = 0; i < x.length; i++) {
        boolean in = i >= off && i < off + n;
        assertEquals(in ? x[i] * c : x[i], scaled[i], "scale at " + i);
        assertEquals(in ? x[i] * (y[i] - delta) : y[i], grad[i], "softmaxGrad at " + i);
        assertEquals(in ? Simd.expFlushed(x[i] - delta) : x[i], exps[i], "expMinus at " + i);
      }
    }
  }

  /**
   * The softmax kernels' exps are {@link Simd#exp} bit for bit from {@link Simd#EXP_FLUSH} up to
   * 88.3, exactly 0 below it (masked keys at −∞ included), never a subnormal, and +∞ from 88.4 on
   * (their inputs are ≤ 0; e^88.4 is within 2% of fp32's largest value), on both the vector and the
   * scalar tail; NaN stays NaN.
   */
  @Test
  void softmaxExpsAreExactAboveTheFlushPointAndZeroBelow() {
    java.util.List<Float> xs = new java.util.ArrayList<>();
    for (float v = -130f; v < 95f; v += 0.37f) if (v < 88.3f || v > 88.4f) xs.add(v);
    for (float v = -87.5f; v < 0f; v += 0.0137f) xs.add(v); // dense where softmaxes live
    for (float v :
        new float[] {-87f, Math.nextDown(-87f), Math.nextUp(-87f), -104f, -88f, -0f, 0f, 88.3f})
      xs.add(v);
    xs.add(Float.NEGATIVE_INFINITY);
    xs.add(Float.POSITIVE_INFINITY);
    xs.add(Float.NaN);
    while (xs.size() % Simd.PARTS != 0) xs.add(-200f);
    float[] x = new float[xs.size()];
    for (int i = 0; i < x.length; i++) x[i] = xs.get(i);
    for (int i = 0; i < x.length; i++) {
      float want = x[i] < -87f ? 0f : x[i] > 88.35f ? Float.POSITIVE_INFINITY : Simd.exp(x[i]);
      assertEquals(want, Simd.expFlushed(x[i]), "expFlushed(" + x[i] + ")");
    }
    float[] minus = x.clone(), acc = x.clone(), parts = new float[Simd.PARTS];
    Simd.expMinus(minus, 0, x.length, 0f);
    Simd.expAccumulate(acc, 0, x.length, 0f, parts, 0, 1f);
    for (int i = 0; i < x.length; i++) {
      String at = "e^" + x[i];
      assertEquals(Simd.expFlushed(x[i]), minus[i], "expMinus: " + at);
      assertEquals(Simd.expFlushed(x[i]), acc[i], "expAccumulate: " + at);
      boolean subnormal = minus[i] != 0 && Math.abs(minus[i]) < Float.MIN_NORMAL;
      assertTrue(!subnormal, at + " gave the subnormal " + minus[i]);
    }
  }

  @Test
  void expAccumulateKeepsSixteenPartialSumsInOrder() {
    Random r = new Random(13);
    for (int trial = 0; trial < 50; trial++) {
      int n = Simd.PARTS * (1 + r.nextInt(6)), off = r.nextInt(5), pOff = r.nextInt(4);
      float shift = (float) r.nextGaussian(), corr = r.nextFloat();
      float[] x = rand(r, off + n), parts = rand(r, pOff + Simd.PARTS);
      float[] wantX = x.clone(), wantParts = parts.clone();
      for (int j = 0; j < Simd.PARTS; j++) wantParts[pOff + j] *= corr;
      for (int i = 0; i < n; i++) {
        wantX[off + i] = Simd.expFlushed(x[off + i] - shift);
        wantParts[pOff + i % Simd.PARTS] += wantX[off + i];
      }
      Simd.expAccumulate(x, off, n, shift, parts, pOff, corr);
      assertArrayEquals(wantX, x, "exp values");
      assertArrayEquals(wantParts, parts, "partial sums");
      double exact = 0;
      for (int j = 0; j < Simd.PARTS; j++) exact += parts[pOff + j];
      assertEquals(exact, Simd.combineParts(parts, pOff), 1e-5 * Math.abs(exact));
    }
  }

  private static float[] rand(Random r, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
    return x;
  }
}
