package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.OptimizerReference.direct;
import static dev.flantune.model.cpu.OptimizerReference.floats;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The optimizer's Vector API kernels and their plain loops equal the element-by-element references
 * bit for bit, over odd lengths, unaligned starts, tails and decayed-prefix boundaries.
 */
class OptimizerKernelsTest {
  @Test
  void theVectorKernelsRunInTheTests() {
    assertTrue(OptimizerKernels.VECTOR, "surefire adds jdk.incubator.vector");
    assertTrue(OptimizerKernels.VECTOR_SUMS, "4-lane fp64 vectors on this CPU");
  }

  @Test
  void sumOfSquaresIsTheEightPartialSumsBitForBit() {
    SplittableRandom r = new SplittableRandom(17);
    int[] lengths = new int[75];
    for (int n = 0; n < 71; n++) lengths[n] = n;
    lengths[71] = 4096;
    lengths[72] = 4099;
    lengths[73] = 16384;
    lengths[74] = 16391;
    for (int off = 0; off < 4; off++) {
      for (int n : lengths) {
        float[] x = new float[off + n + 9];
        for (int i = 0; i < x.length; i++)
          x[i] = (float) (r.nextGaussian() * Math.exp(r.nextInt(9)));
        float[] window = java.util.Arrays.copyOfRange(x, off, off + n);
        double want = OptimizerReference.sumOfSquares(window, n);
        ByteBuffer b = direct(x);
        String at = "off " + off + ", n " + n;
        assertEquals(want, OptimizerKernels.sumOfSquares(b, off, n, true), 0.0, "vector " + at);
        // The vector part alone: whole groups of eight into sums i % 8, fewer than 16 left.
        double[] s = new double[8];
        int done = OptimizerVector.sumOfSquares(b, off, n, s);
        assertEquals(0, done % 8, at);
        assertTrue(n - done < 16, at + ": did " + done);
        double[] ref = new double[8];
        for (int i = 0; i < done; i++) ref[i % 8] += (double) window[i] * window[i];
        assertArrayEquals(ref, s, 0.0, at);
        assertEquals(want, OptimizerKernels.sumOfSquares(b, off, n, false), 0.0, "plain " + at);
        double plain = 0;
        for (float f : window) plain += (double) f * f;
        assertEquals(plain, want, 1e-12 * Math.max(1, plain), "the sum itself, " + at);
      }
    }
  }

  @Test
  void adamWIsThePlainLoopBitForBit() {
    SplittableRandom r = new SplittableRandom(23);
    int[] lengths = {0, 1, 7, 15, 16, 17, 31, 33, 64, 100, 4133, 9001};
    for (int n : lengths) {
      for (int variant = 0; variant < 4; variant++) {
        boolean zero = variant >= 2;
        float scale = variant % 2 == 0 ? 1f : 0.37f;
        OptimizerKernels.AdamWStep k =
            new OptimizerKernels.AdamWStep(
                0.9f, 0.1f, 0.95f, 0.05f, 0.31f, 1e-8f, 0.0123f, scale, zero);
        // Each buffer at its own offset; the update on [from, to) with the decayed prefix ending
        // at split (as AdamW calls it: one range decayed, then the rest with decay 1).
        int pOff = 1, gOff = 3, mOff = 0, vOff = 5;
        int from = n > 2 ? 1 + r.nextInt(2) : 0, to = n > 2 ? n - r.nextInt(2) : n;
        int split = from + (to > from ? r.nextInt(to - from + 1) : 0);
        float[] p = random(r, n + 8, false), g = random(r, n + 8, false);
        float[] m = random(r, n + 8, false), v = random(r, n + 8, true);
        float decay = 0.999f;
        float[] wp = window(p, pOff, n), wg = window(g, gOff, n);
        float[] wm = window(m, mOff, n), wv = window(v, vOff, n);
        OptimizerReference.adamW(wp, wg, wm, wv, from, to, split, decay, k);
        for (boolean vector : new boolean[] {true, false}) {
          ByteBuffer bp = direct(p), bg = direct(g), bm = direct(m), bv = direct(v);
          OptimizerKernels.adamW(
              bp, pOff, bg, gOff, bm, mOff, bv, vOff, from, split, decay, k, vector);
          OptimizerKernels.adamW(bp, pOff, bg, gOff, bm, mOff, bv, vOff, split, to, 1f, k, vector);
          String at = (vector ? "vector" : "plain") + ", n " + n + ", variant " + variant;
          assertBits(wp, floats(bp), pOff, p, "p " + at);
          assertBits(wg, floats(bg), gOff, g, "g " + at);
          assertBits(wm, floats(bm), mOff, m, "m " + at);
          assertBits(wv, floats(bv), vOff, v, "v " + at);
        }
      }
    }
  }

  private static float[] random(SplittableRandom r, int n, boolean positive) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      double d = r.nextGaussian() * 0.1;
      x[i] = (float) (positive ? d * d : d);
    }
    return x;
  }

  private static float[] window(float[] x, int off, int n) {
    return java.util.Arrays.copyOfRange(x, off, off + n);
  }

  /** got holds want at [off, off + want.length) and the original elsewhere, bit for bit. */
  private static void assertBits(
      float[] want, float[] got, int off, float[] original, String what) {
    for (int i = 0; i < got.length; i++) {
      float w = i >= off && i < off + want.length ? want[i - off] : original[i];
      assertEquals(
          Float.floatToRawIntBits(w), Float.floatToRawIntBits(got[i]), what + " [" + i + "]");
    }
  }
}
