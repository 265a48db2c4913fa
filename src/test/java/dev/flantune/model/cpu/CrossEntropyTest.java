package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.ActivationTest.assertSameBits;
import static dev.flantune.model.cpu.ActivationTest.buffer;
import static dev.flantune.model.cpu.ActivationTest.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The LM head's cross-entropy: the Vector API path (in place on the logits) and the scalar path
 * (row copies) give the same loss and gradient bits for vocabularies off the vector and block
 * grids, the scoring path's sum agrees, and both follow the double-precision softmax.
 */
class CrossEntropyTest {
  /**
   * The loss (its fp64 bits as four 16-bit pieces, exact in floats) and the gradient left in place.
   */
  static float[][] run(float[] logits, int m, int nv, int[] labels, float[] w, boolean vector) {
    LmHead head = new LmHead(null, null, 8, nv, null);
    int[] rows = new int[m];
    for (int j = 0; j < m; j++) rows[j] = (j * 7) % labels.length;
    ByteBuffer b = buffer(logits);
    double loss = head.crossEntropy(b, m, labels, rows, w, vector);
    long bits = Double.doubleToRawLongBits(loss);
    float[] pieces = new float[4];
    for (int i = 0; i < 4; i++) pieces[i] = (bits >>> (16 * i)) & 0xffff;
    return new float[][] {pieces, floats(b, m * nv)};
  }

  static double loss(float[] pieces) {
    long bits = 0;
    for (int i = 0; i < 4; i++) bits |= (long) pieces[i] << (16 * i);
    return Double.longBitsToDouble(bits);
  }

  @Test
  void vectorAndScalarPathsGiveTheSameBits() {
    Random r = new Random(11);
    for (int nv : new int[] {1, 16, 17, 255, 257, 1001, 4099}) {
      int m = 1 + r.nextInt(9);
      float[] x = NormTest.gaussian(r, m * nv, 3f, 1f);
      int[] labels = new int[m + 3];
      for (int i = 0; i < labels.length; i++) labels[i] = r.nextInt(nv);
      float[] w = new float[m + 3];
      for (int i = 0; i < w.length; i++) w[i] = r.nextFloat();
      for (float[] weights : new float[][] {null, w}) {
        float[][] v = run(x, m, nv, labels, weights, true),
            s = run(x, m, nv, labels, weights, false);
        assertSameBits(s[0], v[0], "loss nv=" + nv);
        assertSameBits(s[1], v[1], "gradient nv=" + nv);
      }
      // Scoring sums the same way.
      LmHead head = new LmHead(null, null, 8, nv, null);
      float[] row = java.util.Arrays.copyOf(x, nv);
      float max = Float.NEGATIVE_INFINITY;
      for (float f : row) max = Math.max(max, f);
      double sum = head.expShifted(row, max);
      float[][] one = run(java.util.Arrays.copyOf(x, nv), 1, nv, new int[] {0}, null, true);
      assertEquals(Math.log(sum) + max - x[0], loss(one[0]), 0.0, "nv=" + nv);
    }
  }

  @Test
  void followsTheDoubleSoftmax() {
    Random r = new Random(12);
    int m = 6, nv = 3001;
    float[] x = NormTest.gaussian(r, m * nv, 4f, 0f);
    int[] labels = new int[m];
    float[] w = new float[m];
    for (int j = 0; j < m; j++) {
      labels[j] = r.nextInt(nv);
      w[j] = 0.5f + r.nextFloat();
    }
    float[][] got = run(x, m, nv, labels, w, Simd.VECTOR);
    double loss = 0;
    for (int j = 0; j < m; j++) {
      int label = labels[(j * 7) % m];
      float wj = w[(j * 7) % m];
      double max = Double.NEGATIVE_INFINITY, sum = 0;
      for (int v = 0; v < nv; v++) max = Math.max(max, x[j * nv + v]);
      for (int v = 0; v < nv; v++) sum += Math.exp(x[j * nv + v] - max);
      loss += wj * (Math.log(sum) + max - x[j * nv + label]);
      for (int v = 0; v < nv; v++) {
        double g = wj * (Math.exp(x[j * nv + v] - max) / sum - (v == label ? 1 : 0));
        assertTrue(
            Math.abs(g - got[1][j * nv + v]) <= 1e-6,
            "gradient " + g + " vs " + got[1][j * nv + v]);
      }
    }
    double gotLoss = loss(got[0]);
    assertEquals(loss, gotLoss, 1e-5 * Math.abs(loss), "loss");
  }
}
