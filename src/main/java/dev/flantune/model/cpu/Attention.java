package dev.flantune.model.cpu;

import dev.flantune.model.FastMath;
import dev.flantune.model.KeyRanges;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/**
 * Attention's loops around its batched GEMMs: moving q|k|v between token rows and head-major
 * layout, and the causal softmax over each query's key ranges.
 *
 * <p>Head-major layout: a part of {@code cnt} heads is [B, cnt, T, D], so each head is one
 * contiguous [T, D] matrix. With grouped key/value heads (H = KV·G), query head h uses kv head h /
 * G, so q viewed as [B·KV, G·T, D] lines up with k and v as [B·KV, T, D]: the batched GEMMs need no
 * copies of k or v, and the scores [B·KV, G·T, T] are exactly [B, H, T, T].
 */
final class Attention {
  private Attention() {}

  /**
   * x [N, width] holds parts of counts[s]·D columns each (q, k, v); copies part s into head-major
   * heads, the parts one after another.
   */
  static void splitHeads(FloatBuffer x, FloatBuffer heads, int rows, int t, int d, int... counts) {
    int n = rows * t, width = 0;
    for (int c : counts) width += c * d;
    int w = width;
    Parallel.range(
        n,
        w,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int r = i / t, pos = i % t, col = 0, base = 0;
            for (int cnt : counts) {
              for (int h = 0; h < cnt; h++) {
                heads.put(base + ((r * cnt + h) * t + pos) * d, x, i * w + col + h * d, d);
              }
              col += cnt * d;
              base += n * cnt * d;
            }
          }
        });
  }

  /**
   * Head-major heads [B, cnt, T, D] from {@code base} → columns [col, col + cnt·D) of x [N, width].
   */
  static void mergeHeads(
      FloatBuffer heads,
      int base,
      int cnt,
      FloatBuffer x,
      int width,
      int col,
      int rows,
      int t,
      int d) {
    Parallel.range(
        rows * t,
        (long) cnt * d,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int r = i / t, pos = i % t;
            for (int h = 0; h < cnt; h++) {
              x.put(i * width + col + h * d, heads, base + ((r * cnt + h) * t + pos) * d, d);
            }
          }
        });
  }

  /**
   * Softmax of each (row, head, query) over its keys, in place over the scaled scores [B, H, T, T];
   * exactly 0 on every other key.
   */
  static void causalSoftmax(FloatBuffer s, KeyRanges keys, int rows, int nH, int t) {
    Parallel.range(
        rows * nH * t,
        t,
        (from, to) -> {
          float[] row = new float[t];
          for (int rq = from; rq < to; rq++) {
            int q = rq % t, i = (rq / t / nH) * t + q, o = rq * t;
            int lo = keys.lo()[i], sh = Math.min(keys.shared()[i], lo);
            s.get(o, row, 0, t);
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < sh; k++) max = Math.max(max, row[k]);
            for (int k = lo; k <= q; k++) max = Math.max(max, row[k]);
            float sum = 0;
            for (int k = 0; k < sh; k++) sum += row[k] = FastMath.exp(row[k] - max);
            for (int k = lo; k <= q; k++) sum += row[k] = FastMath.exp(row[k] - max);
            float inv =
                sh == 0 && lo > q ? 0f : 1 / sum; // NaN scores stay NaN: the guard sees them
            for (int k = 0; k < sh; k++) row[k] *= inv;
            for (int k = sh; k < lo; k++) row[k] = 0f;
            for (int k = lo; k <= q; k++) row[k] *= inv;
            for (int k = Math.max(q + 1, lo); k < t; k++) row[k] = 0f;
            s.put(o, row, 0, t);
          }
        });
  }

  /** dS = P ⊙ (dP − Σ_k dP·P), in place over dP, per (row, head, query); 0 off its keys. */
  static void causalSoftmaxBackward(
      FloatBuffer p, FloatBuffer dp, KeyRanges keys, int rows, int nH, int t) {
    Parallel.range(
        rows * nH * t,
        t,
        (from, to) -> {
          float[] pr = new float[t], dr = new float[t];
          for (int rq = from; rq < to; rq++) {
            int q = rq % t, i = (rq / t / nH) * t + q, o = rq * t;
            int lo = keys.lo()[i], sh = Math.min(keys.shared()[i], lo);
            p.get(o, pr, 0, t);
            dp.get(o, dr, 0, t);
            float dot = 0;
            for (int k = 0; k < sh; k++) dot += dr[k] * pr[k];
            for (int k = lo; k <= q; k++) dot += dr[k] * pr[k];
            for (int k = 0; k < sh; k++) dr[k] = pr[k] * (dr[k] - dot);
            for (int k = sh; k < lo; k++) dr[k] = 0f;
            for (int k = lo; k <= q; k++) dr[k] = pr[k] * (dr[k] - dot);
            for (int k = Math.max(q + 1, lo); k < t; k++) dr[k] = 0f;
            dp.put(o, dr, 0, t);
          }
        });
  }
}
