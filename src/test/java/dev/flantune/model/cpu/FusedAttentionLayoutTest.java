package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flantune.data.Batch;
import dev.flantune.model.KeyRanges;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused attention reading q|k|v token-major, where the projection writes them (the engine's
 * layout), gives bit for bit what it gives on the same values split into heads (the layout {@link
 * FusedAttentionTest} checks against the reference): outputs, logsumexps and the gradients, which
 * it writes token-major too. Grouped heads, packed rows with padding, tile tails.
 */
class FusedAttentionLayoutTest {
  @Test
  void tokenMajorEqualsHeadMajorBitForBit() {
    Random r = new Random(31);
    int[][] shapes = { // rows, T, H, KV, D
      {1, 1, 1, 1, 8}, {2, 65, 4, 2, 8}, {1, 130, 3, 1, 24}, {3, 70, 4, 4, 64}, {2, 200, 6, 2, 32},
    };
    for (int[] sh : shapes) {
      FusedAttention.Dims heads = new FusedAttention.Dims(sh[0], sh[1], sh[2], sh[3], sh[4]);
      FusedAttention.Dims tokens = new FusedAttention.Dims(sh[0], sh[1], sh[2], sh[3], sh[4], true);
      int t = sh[1], n = sh[0] * t, d = sh[4], nH = sh[2], nKv = sh[3];
      int w = (nH + 2 * nKv) * d, a = nH * d;
      KeyRanges keys = packed(r, sh[0], t);
      float[] qkv = new float[n * w], dy = new float[n * a];
      for (int i = 0; i < qkv.length; i++) qkv[i] = (float) r.nextGaussian();
      for (int i = 0; i < dy.length; i++) dy[i] = (float) r.nextGaussian();
      float scale = (float) (1 / Math.sqrt(d));

      float[] split = split(qkv, sh[0], t, nH, nKv, d);
      FloatBuffer yH = FloatBuffer.allocate(n * a), dH = FloatBuffer.allocate(n * w);
      float[] lseH = new float[sh[0] * nH * t];
      FusedAttention.forward(FloatBuffer.wrap(split), yH, lseH, keys, heads, scale);
      FusedAttention.backward(
          FloatBuffer.wrap(split), yH, lseH, FloatBuffer.wrap(dy), dH, keys, heads, scale);

      FloatBuffer yT = FloatBuffer.allocate(n * a), dT = FloatBuffer.allocate(n * w);
      float[] lseT = new float[sh[0] * nH * t];
      FusedAttention.forward(FloatBuffer.wrap(qkv), yT, lseT, keys, tokens, scale);
      FusedAttention.backward(
          FloatBuffer.wrap(qkv), yT, lseT, FloatBuffer.wrap(dy), dT, keys, tokens, scale);

      String at = java.util.Arrays.toString(sh);
      assertArrayEquals(yH.array(), yT.array(), 0f, "y " + at);
      assertArrayEquals(lseH, lseT, 0f, "lse " + at);
      assertArrayEquals(split(dT.array(), sh[0], t, nH, nKv, d), dH.array(), 0f, "d(qkv) " + at);
      assertEquals(heads.qOffset(0, 0), tokens.qOffset(0, 0));
    }
  }

  /** Token-major [B·T, (H + 2KV)·D] → head-major q [B, H, T, D], k and v [B, KV, T, D]. */
  private static float[] split(float[] x, int rows, int t, int nH, int nKv, int d) {
    int w = (nH + 2 * nKv) * d, n = rows * t;
    float[] out = new float[x.length];
    int[] counts = {nH, nKv, nKv};
    for (int i = 0; i < n; i++) {
      int b = i / t, pos = i % t, col = 0, base = 0;
      for (int cnt : counts) {
        for (int h = 0; h < cnt; h++)
          System.arraycopy(x, i * w + col + h * d, out, base + ((b * cnt + h) * t + pos) * d, d);
        col += cnt * d;
        base += n * cnt * d;
      }
    }
    return out;
  }

  /** Random packed segments with padding (positions restart per segment). */
  private static KeyRanges packed(Random r, int rows, int t) {
    int n = rows * t;
    int[] seg = new int[n], pos = new int[n], ids = new int[n];
    for (int b = 0; b < rows; b++) {
      int s = 1, p = 0;
      for (int q = 0; q < t; q++) {
        if (q > 0 && r.nextInt(40) == 0) {
          s++;
          p = 0;
        }
        boolean pad = q > t - 3;
        seg[b * t + q] = pad ? 0 : s;
        pos[b * t + q] = pad ? 0 : p++;
      }
    }
    return KeyRanges.of(new Batch(rows, t, ids, pos, seg, ids, new float[n]));
  }
}
