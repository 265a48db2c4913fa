package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.CHUNK;

import dev.flantune.model.FastMath;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * The MLP's nonlinearity between its two projections, forward and backward, fused loops over
 * chunks: GELU (tanh form, GPT-2's gelu_new) on u [N, F], or SwiGLU on u = gate|up [N, 2F] (each
 * row: F gate columns, then F up columns) giving silu(gate)·up [N, F]. Buffers are bytes in native
 * order, float i at byte 4i. With the Vector API ({@link ElementwiseVector}) the whole computation
 * runs on vector registers straight on the buffers; the scalar loops here (the path without it, and
 * the vector path's tails) give the same bits.
 */
final class Activation {
  private static final double GELU_K0 = Math.sqrt(2 / Math.PI), GELU_K1 = 0.044715;

  /** gelu_new's constants in fp32, as every kernel multiplies by them. */
  static final float K0 = (float) GELU_K0, K1 = (float) GELU_K1;

  private Activation() {}

  /** t = tanh(√(2/π)·(x + 0.044715·x³)), the inner part of gelu_new. */
  static float geluTanh(float x) {
    return FastMath.tanh(K0 * (x + K1 * x * x * x));
  }

  /**
   * σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) below (e^−|x| never overflows); the same values as
   * {@link #swiglu}'s vectorized loop.
   */
  static float sigmoid(float x) {
    float e = Simd.exp(-Math.abs(x));
    return x >= 0 ? 1f / (1f + e) : e / (1f + e);
  }

  /** gelu_new'(v)·d from v and t = {@link #geluTanh}(v). */
  private static float geluGrad(float v, float th, float d) {
    return d * (0.5f * (1 + th) + 0.5f * v * (1 - th * th) * K0 * (1 + 3 * K1 * v * v));
  }

  /** out = 0.5·x·(1 + t) over len elements, t kept for the backward pass. */
  static void gelu(ByteBuffer x, ByteBuffer t, ByteBuffer out, int len) {
    gelu(x, t, out, len, Simd.VECTOR);
  }

  /** {@link #gelu} on the Vector API or not (tests compare the two). */
  static void gelu(ByteBuffer x, ByteBuffer t, ByteBuffer out, int len, boolean vector) {
    Parallel.range(
        len,
        vector ? 2 : 8,
        (from, to) -> {
          int at = vector ? ElementwiseVector.gelu(x, t, out, from, to) : from;
          if (at < to) geluScalar(x, t, out, at, to);
        });
  }

  private static void geluScalar(ByteBuffer xb, ByteBuffer tb, ByteBuffer ob, int from, int to) {
    FloatBuffer x = xb.asFloatBuffer(), t = tb.asFloatBuffer(), out = ob.asFloatBuffer();
    float[] xs = new float[CHUNK], ts = new float[CHUNK], os = new float[CHUNK];
    for (int at = from; at < to; at += CHUNK) {
      int m = Math.min(CHUNK, to - at);
      x.get(at, xs, 0, m);
      for (int i = 0; i < m; i++) {
        float th = geluTanh(xs[i]);
        ts[i] = th;
        os[i] = 0.5f * xs[i] * (1 + th);
      }
      t.put(at, ts, 0, m);
      out.put(at, os, 0, m);
    }
  }

  /** d ← d · gelu_new'(x), in place, from x and the forward pass's t. */
  static void geluBackward(ByteBuffer x, ByteBuffer t, ByteBuffer d, int len) {
    geluBackward(x, t, d, len, Simd.VECTOR);
  }

  /** {@link #geluBackward} on the Vector API or not (tests compare the two). */
  static void geluBackward(ByteBuffer x, ByteBuffer t, ByteBuffer d, int len, boolean vector) {
    Parallel.range(
        len,
        vector ? 1 : 3,
        (from, to) -> {
          int at = vector ? ElementwiseVector.geluBackward(x, t, d, from, to) : from;
          if (at < to) geluBackwardScalar(x, t, d, at, to);
        });
  }

  private static void geluBackwardScalar(
      ByteBuffer xb, ByteBuffer tb, ByteBuffer db, int from, int to) {
    FloatBuffer x = xb.asFloatBuffer(), t = tb.asFloatBuffer(), d = db.asFloatBuffer();
    float[] xs = new float[CHUNK], ts = new float[CHUNK], ds = new float[CHUNK];
    for (int at = from; at < to; at += CHUNK) {
      int m = Math.min(CHUNK, to - at);
      x.get(at, xs, 0, m);
      t.get(at, ts, 0, m);
      d.get(at, ds, 0, m);
      for (int i = 0; i < m; i++) ds[i] = geluGrad(xs[i], ts[i], ds[i]);
      d.put(at, ds, 0, m);
    }
  }

  /**
   * h = silu(gate)·up per row of u [n, 2F]. σ(gate) is not kept: the backward pass recomputes it
   * (the same bits), which costs less than writing and reading it back (measured 1.40 → 0.84 ms
   * forward, 1.30 → 1.03 ms backward on [1024, 1536]) and saves an [n, F] buffer per layer.
   */
  static void swiglu(ByteBuffer u, ByteBuffer h, int n, int f) {
    swiglu(u, h, n, f, Simd.VECTOR);
  }

  /** {@link #swiglu} on the Vector API or not (tests compare the two). */
  static void swiglu(ByteBuffer u, ByteBuffer h, int n, int f, boolean vector) {
    Parallel.range(
        n,
        (vector ? 2L : 10L) * f,
        (from, to) -> {
          if (!vector) {
            swigluScalar(u, h, from, to, f);
            return;
          }
          for (int i = from; i < to; i++) {
            int k = ElementwiseVector.swiglu(u, 2 * i * f, h, i * f, f);
            for (; k < f; k++) {
              float g = u.getFloat(4 * (2 * i * f + k)), up = u.getFloat(4 * ((2 * i + 1) * f + k));
              h.putFloat(4 * (i * f + k), g * sigmoid(g) * up);
            }
          }
        });
  }

  private static void swigluScalar(ByteBuffer ub, ByteBuffer hb, int from, int to, int f) {
    FloatBuffer u = ub.asFloatBuffer(), h = hb.asFloatBuffer();
    float[] ur = new float[2 * f], sr = new float[f], hr = new float[f];
    for (int i = from; i < to; i++) {
      u.get(i * 2 * f, ur, 0, 2 * f);
      sigmoids(ur, sr, f);
      for (int k = 0; k < f; k++) hr[k] = ur[k] * sr[k] * ur[f + k];
      h.put(i * f, hr, 0, f);
    }
  }

  /** s[k] = {@link #sigmoid}(g[k]) for k < f, exp on {@link Simd#exp}'s array loop. */
  private static void sigmoids(float[] g, float[] s, int f) {
    for (int k = 0; k < f; k++) s[k] = -Math.abs(g[k]);
    Simd.exp(s, 0, f); // the same values as Simd.exp(float) on either path
    for (int k = 0; k < f; k++) {
      float e = s[k];
      s[k] = g[k] >= 0 ? 1f / (1f + e) : e / (1f + e);
    }
  }

  /** du = [dh·up·σ(g)·(1 + g·(1 − σ(g))), dh·silu(g)] per row, from dh [n, F] and u = gate|up. */
  static void swigluBackward(ByteBuffer u, ByteBuffer dh, ByteBuffer du, int n, int f) {
    swigluBackward(u, dh, du, n, f, Simd.VECTOR);
  }

  /** {@link #swigluBackward} on the Vector API or not (tests compare the two). */
  static void swigluBackward(
      ByteBuffer u, ByteBuffer dh, ByteBuffer du, int n, int f, boolean vector) {
    Parallel.range(
        n,
        (vector ? 2L : 8L) * f,
        (from, to) -> {
          if (!vector) {
            swigluBackwardScalar(u, dh, du, from, to, f);
            return;
          }
          for (int i = from; i < to; i++) {
            int k = ElementwiseVector.swigluBackward(u, 2 * i * f, dh, i * f, du, f);
            for (; k < f; k++) {
              int gi = 4 * (2 * i * f + k), ui = gi + 4 * f;
              float g = u.getFloat(gi), up = u.getFloat(ui), sg = sigmoid(g);
              float d = dh.getFloat(4 * (i * f + k));
              du.putFloat(gi, d * up * sg * (1 + g * (1 - sg)));
              du.putFloat(ui, d * g * sg);
            }
          }
        });
  }

  private static void swigluBackwardScalar(
      ByteBuffer ub, ByteBuffer db, ByteBuffer ob, int from, int to, int f) {
    FloatBuffer u = ub.asFloatBuffer(), dh = db.asFloatBuffer(), du = ob.asFloatBuffer();
    float[] ur = new float[2 * f], sr = new float[f], dr = new float[f];
    float[] out = new float[2 * f];
    for (int i = from; i < to; i++) {
      u.get(i * 2 * f, ur, 0, 2 * f);
      dh.get(i * f, dr, 0, f);
      sigmoids(ur, sr, f);
      for (int k = 0; k < f; k++) {
        float g = ur[k], up = ur[f + k], sg = sr[k], d = dr[k];
        out[k] = d * up * sg * (1 + g * (1 - sg));
        out[f + k] = d * g * sg;
      }
      du.put(i * 2 * f, out, 0, 2 * f);
    }
  }
}
