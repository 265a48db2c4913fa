package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.CHUNK;

import dev.flantune.model.FastMath;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/**
 * The MLP's nonlinearity between its two projections, forward and backward, fused loops over
 * chunks: GELU (tanh form, GPT-2's gelu_new) on u [N, F], or SwiGLU on u = gate|up [N, 2F] (each
 * row: F gate columns, then F up columns) giving silu(gate)·up [N, F].
 */
final class Activation {
  private static final double GELU_K0 = Math.sqrt(2 / Math.PI), GELU_K1 = 0.044715;

  private Activation() {}

  /** t = tanh(√(2/π)·(x + 0.044715·x³)), the inner part of gelu_new. */
  static float geluTanh(float x) {
    return FastMath.tanh((float) GELU_K0 * (x + (float) GELU_K1 * x * x * x));
  }

  /**
   * σ(x) = 1/(1 + e^−x) for x ≥ 0, e^x/(1 + e^x) below (e^−|x| never overflows); the same values as
   * {@link #swiglu}'s vectorized loop.
   */
  static float sigmoid(float x) {
    float e = Simd.exp(-Math.abs(x));
    return x >= 0 ? 1f / (1f + e) : e / (1f + e);
  }

  /** out = 0.5·x·(1 + t) over len elements, t kept for the backward pass. */
  static void gelu(FloatBuffer x, FloatBuffer t, FloatBuffer out, int len) {
    Parallel.range(
        len,
        8,
        (from, to) -> {
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
        });
  }

  /** d ← d · gelu_new'(x), in place, from x and the forward pass's t. */
  static void geluBackward(FloatBuffer x, FloatBuffer t, FloatBuffer d, int len) {
    float k0 = (float) GELU_K0, k1 = (float) GELU_K1;
    Parallel.range(
        len,
        3,
        (from, to) -> {
          float[] xs = new float[CHUNK], ts = new float[CHUNK], ds = new float[CHUNK];
          for (int at = from; at < to; at += CHUNK) {
            int m = Math.min(CHUNK, to - at);
            x.get(at, xs, 0, m);
            t.get(at, ts, 0, m);
            d.get(at, ds, 0, m);
            for (int i = 0; i < m; i++) {
              float v = xs[i], th = ts[i];
              ds[i] *= 0.5f * (1 + th) + 0.5f * v * (1 - th * th) * k0 * (1 + 3 * k1 * v * v);
            }
            d.put(at, ds, 0, m);
          }
        });
  }

  /** h = silu(gate)·up per row of u [n, 2F]; s = σ(gate) [n, F] kept for the backward pass. */
  static void swiglu(FloatBuffer u, FloatBuffer s, FloatBuffer h, int n, int f) {
    Parallel.range(
        n,
        10L * f,
        (from, to) -> {
          float[] ur = new float[2 * f], sr = new float[f], hr = new float[f];
          for (int i = from; i < to; i++) {
            u.get(i * 2 * f, ur, 0, 2 * f);
            for (int k = 0; k < f; k++) sr[k] = -Math.abs(ur[k]);
            Simd.exp(sr, 0, f);
            for (int k = 0; k < f; k++) {
              float e = sr[k], sg = ur[k] >= 0 ? 1f / (1f + e) : e / (1f + e);
              sr[k] = sg;
              hr[k] = ur[k] * sg * ur[f + k];
            }
            s.put(i * f, sr, 0, f);
            h.put(i * f, hr, 0, f);
          }
        });
  }

  /**
   * du = [dh·up·σ(g)·(1 + g·(1 − σ(g))), dh·silu(g)] per row, from dh [n, F], u = gate|up and s.
   */
  static void swigluBackward(
      FloatBuffer u, FloatBuffer s, FloatBuffer dh, FloatBuffer du, int n, int f) {
    Parallel.range(
        n,
        6L * f,
        (from, to) -> {
          float[] ur = new float[2 * f], sr = new float[f], dr = new float[f];
          float[] out = new float[2 * f];
          for (int i = from; i < to; i++) {
            u.get(i * 2 * f, ur, 0, 2 * f);
            s.get(i * f, sr, 0, f);
            dh.get(i * f, dr, 0, f);
            for (int k = 0; k < f; k++) {
              float g = ur[k], up = ur[f + k], sg = sr[k], d = dr[k];
              out[k] = d * up * sg * (1 + g * (1 - sg));
              out[f + k] = d * g * sg;
            }
            du.put(i * 2 * f, out, 0, 2 * f);
          }
        });
  }
}
