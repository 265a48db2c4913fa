package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.ActivationTest.assertSameBits;
import static dev.flantune.model.cpu.ActivationTest.buffer;
import static dev.flantune.model.cpu.ActivationTest.floats;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.model.ModelConfig;
import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * RoPE over a q|k|v buffer: the Vector API path, the scalar path and the decoder's one-vector
 * rotation give the same bits (head sizes whose half is not whole vectors), the rotation matches
 * double-precision cos/sin, and the inverse undoes it.
 */
class RopeTest {
  private static final int[] HEAD_SIZES = {2, 6, 16, 34, 64, 96};

  static Rope rope(int d) {
    return new Rope(new ModelConfig.Rope(10000, ModelConfig.Scaling.NONE), d);
  }

  /** x [n, width] with cnt head vectors of size d from column col rotated (or inverted). */
  static float[] apply(
      Rope r,
      float[] x,
      int col,
      int width,
      int n,
      int cnt,
      int[] pos,
      boolean inv,
      boolean vector) {
    ByteBuffer b = buffer(x);
    r.apply(b, col, width, n, cnt, pos, inv, vector);
    return floats(b, x.length);
  }

  @Test
  void vectorScalarAndDecoderPathsGiveTheSameBits() {
    Random r = new Random(9);
    for (int d : HEAD_SIZES) {
      int n = 1 + r.nextInt(40),
          cnt = 1 + r.nextInt(4),
          col = r.nextInt(3),
          width = col + cnt * d + 5;
      int[] pos = new int[n];
      for (int i = 0; i < n; i++) pos[i] = r.nextInt(3000);
      float[] x = NormTest.gaussian(r, n * width, 1f, 0f);
      Rope rope = rope(d);
      for (boolean inv : new boolean[] {false, true}) {
        float[] v = apply(rope, x, col, width, n, cnt, pos, inv, true);
        float[] s = apply(rope, x, col, width, n, cnt, pos, inv, false);
        assertSameBits(s, v, "d=" + d + " inverse=" + inv);
        float[] row = x.clone();
        for (int i = 0; i < n; i++) {
          for (int h = 0; h < cnt; h++) rope.rotate(row, i * width + col + h * d, pos[i], inv);
        }
        assertSameBits(v, row, "decoder d=" + d + " inverse=" + inv);
      }
    }
  }

  @Test
  void rotatesByThePositionsAnglesAndTheInverseUndoesIt() {
    Random r = new Random(10);
    int d = 34, half = d / 2, n = 30, cnt = 3, width = cnt * d;
    int[] pos = new int[n];
    for (int i = 0; i < n; i++) pos[i] = r.nextInt(5000);
    float[] x = NormTest.gaussian(r, n * width, 1f, 0f);
    Rope rope = rope(d);
    float[] y = apply(rope, x, 0, width, n, cnt, pos, false, Simd.VECTOR);
    float[] back = apply(rope, y, 0, width, n, cnt, pos, true, Simd.VECTOR);
    for (int i = 0; i < n; i++) {
      for (int h = 0; h < cnt; h++) {
        int o = i * width + h * d;
        for (int k = 0; k < half; k++) {
          double a = pos[i] * Math.pow(10000, -2.0 * k / d), c = Math.cos(a), s = Math.sin(a);
          double x1 = x[o + k], x2 = x[o + half + k];
          close(x1 * c - x2 * s, y[o + k]);
          close(x2 * c + x1 * s, y[o + half + k]);
          close(x1, back[o + k]);
          close(x2, back[o + half + k]);
        }
      }
    }
  }

  private static void close(double want, float got) {
    assertTrue(Math.abs(want - got) <= 1e-5 * (1 + Math.abs(want)), want + " vs " + got);
  }
}
