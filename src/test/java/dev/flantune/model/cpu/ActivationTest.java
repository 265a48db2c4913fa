package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The MLP nonlinearities: the Vector API path and the scalar path give the same bits (on widths
 * that are not whole vectors, and on values that reach every branch: both signs, ±0, huge, tiny,
 * NaN), and both follow plain double-precision formulas.
 */
class ActivationTest {
  private static final int[] WIDTHS = {1, 3, 15, 16, 17, 33, 100, 1539};

  static ByteBuffer buffer(float[] x) {
    ByteBuffer b = ByteBuffer.allocateDirect(4 * x.length).order(ByteOrder.nativeOrder());
    for (int i = 0; i < x.length; i++) b.putFloat(4 * i, x[i]);
    return b;
  }

  static float[] floats(ByteBuffer b, int n) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = b.getFloat(4 * i);
    return x;
  }

  /** Gaussian values of scale sd with some edge values mixed in. */
  static float[] values(Random r, int n, float sd) {
    float[] special = {0f, -0f, 1e-30f, -1e-30f, 88f, -88f, 200f, -200f, 1e30f, -1e30f, Float.NaN};
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] =
          r.nextInt(20) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian() * sd;
    }
    return x;
  }

  static void assertSameBits(float[] want, float[] got, String what) {
    assertEquals(want.length, got.length, what);
    for (int i = 0; i < want.length; i++) {
      assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " at " + i);
    }
  }

  @Test
  void swigluVectorAndScalarPathsGiveTheSameBits() {
    Random r = new Random(3);
    for (int f : WIDTHS) {
      int n = 1 + r.nextInt(7);
      float[] u = values(r, 2 * n * f, 4f), dh = values(r, n * f, 1f);
      float[][] out = new float[2][], grad = new float[2][];
      for (int p = 0; p < 2; p++) {
        ByteBuffer h = buffer(new float[n * f]), du = buffer(new float[2 * n * f]);
        Activation.swiglu(buffer(u), h, n, f, p == 0);
        Activation.swigluBackward(buffer(u), buffer(dh), du, n, f, p == 0);
        out[p] = floats(h, n * f);
        grad[p] = floats(du, 2 * n * f);
      }
      assertSameBits(out[1], out[0], "swiglu f=" + f);
      assertSameBits(grad[1], grad[0], "swiglu backward f=" + f);
    }
  }

  @Test
  void swigluFollowsTheDoubleFormulas() {
    Random r = new Random(4);
    int n = 5, f = 77;
    float[] u = new float[2 * n * f], dh = new float[n * f];
    for (int i = 0; i < u.length; i++) u[i] = (float) r.nextGaussian() * 4;
    for (int i = 0; i < dh.length; i++) dh[i] = (float) r.nextGaussian();
    ByteBuffer h = buffer(new float[n * f]), du = buffer(new float[2 * n * f]);
    Activation.swiglu(buffer(u), h, n, f);
    Activation.swigluBackward(buffer(u), buffer(dh), du, n, f);
    float[] hv = floats(h, n * f), dv = floats(du, 2 * n * f);
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < f; k++) {
        double g = u[2 * i * f + k], up = u[2 * i * f + f + k], d = dh[i * f + k];
        double s = 1 / (1 + Math.exp(-g));
        close(g * s * up, hv[i * f + k], "h");
        close(d * up * s * (1 + g * (1 - s)), dv[2 * i * f + k], "d gate");
        close(d * g * s, dv[2 * i * f + f + k], "d up");
      }
    }
  }

  @Test
  void geluVectorAndScalarPathsGiveTheSameBits() {
    Random r = new Random(5);
    for (int f : WIDTHS) {
      int len = f * (1 + r.nextInt(5));
      float[] x = values(r, len, 3f), dy = values(r, len, 1f);
      float[][] out = new float[2][], th = new float[2][], grad = new float[2][];
      for (int p = 0; p < 2; p++) {
        ByteBuffer t = buffer(new float[len]), y = buffer(new float[len]), d = buffer(dy);
        Activation.gelu(buffer(x), t, y, len, p == 0);
        Activation.geluBackward(buffer(x), t, d, len, p == 0);
        out[p] = floats(y, len);
        th[p] = floats(t, len);
        grad[p] = floats(d, len);
      }
      assertSameBits(th[1], th[0], "tanh len=" + len);
      assertSameBits(out[1], out[0], "gelu len=" + len);
      assertSameBits(grad[1], grad[0], "gelu backward len=" + len);
    }
  }

  @Test
  void geluFollowsTheDoubleFormulas() {
    Random r = new Random(6);
    int len = 1001;
    float[] x = new float[len], dy = new float[len];
    for (int i = 0; i < len; i++) {
      x[i] = (float) r.nextGaussian() * 3;
      dy[i] = (float) r.nextGaussian();
    }
    ByteBuffer t = buffer(new float[len]), y = buffer(new float[len]), d = buffer(dy);
    Activation.gelu(buffer(x), t, y, len);
    Activation.geluBackward(buffer(x), t, d, len);
    float[] yv = floats(y, len), dv = floats(d, len);
    double k0 = Math.sqrt(2 / Math.PI), k1 = 0.044715;
    for (int i = 0; i < len; i++) {
      double v = x[i], th = Math.tanh(k0 * (v + k1 * v * v * v));
      close(0.5 * v * (1 + th), yv[i], "gelu");
      double grad = 0.5 * (1 + th) + 0.5 * v * (1 - th * th) * k0 * (1 + 3 * k1 * v * v);
      // fp32's tanh is exactly ±1 beyond |x| ≈ 7.9, where the true gradient's tail is ~1e-6·|dy|.
      assertTrue(Math.abs(dy[i] * grad - dv[i]) <= 1e-5 * (1 + Math.abs(dy[i])), "gelu backward");
    }
  }

  private static void close(double want, float got, String what) {
    assertTrue(
        Math.abs(want - got) <= 2e-6 * (1 + Math.abs(want)), what + ": " + want + " vs " + got);
  }
}
