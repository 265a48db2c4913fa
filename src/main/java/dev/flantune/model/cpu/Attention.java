package dev.flantune.model.cpu;

import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/**
 * Moving q|k|v between token rows and head-major layout, around the fused attention ({@link
 * FusedAttention}).
 *
 * <p>Head-major layout: a part of {@code cnt} heads is [B, cnt, T, D], so each head is one
 * contiguous [T, D] matrix. With grouped key/value heads (H = KV·G), query head h uses kv head h /
 * G.
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
}
