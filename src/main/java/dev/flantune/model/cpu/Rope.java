package dev.flantune.model.cpu;

import dev.flantune.model.ModelConfig;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Rotary position embedding in the rotate-half convention: for a head vector x of size D, half =
 * D/2, angle a_i = p·inv_freq_i, y_i = x_i·cos a_i − x_{i+half}·sin a_i and y_{i+half} =
 * x_{i+half}·cos a_i + x_i·sin a_i. Its backward is the inverse rotation. Frequencies follow the
 * config's theta and scaling (linear, Llama 3); the cos/sin table grows with the largest position
 * seen, so a 128k-position config costs nothing until used. With the Vector API ({@link
 * ElementwiseVector}) rotations run in place on the buffers; the scalar loops give the same bits.
 */
final class Rope {
  private final int half;
  private final double[] invFreq;
  private float[] cos = new float[0], sin = new float[0]; // [positions, half]
  private int positions;

  Rope(ModelConfig.Rope rope, int headSize) {
    half = headSize / 2;
    invFreq = rope.inverseFrequencies(headSize);
  }

  /** Makes the table cover positions [0, max]. */
  synchronized void ensure(int max) {
    if (max < positions) return;
    int n = Math.max(max + 1, Math.min(2 * positions, max + 4096));
    float[] c = java.util.Arrays.copyOf(cos, n * half), s = java.util.Arrays.copyOf(sin, n * half);
    for (int p = positions; p < n; p++) {
      for (int i = 0; i < half; i++) {
        double a = p * invFreq[i];
        c[p * half + i] = (float) Math.cos(a);
        s[p * half + i] = (float) Math.sin(a);
      }
    }
    cos = c;
    sin = s;
    positions = n;
  }

  /**
   * Rotates, in place, {@code cnt} head vectors of every token of x [n, width] (token-major, as the
   * q|k|v projection writes them; bytes in native order, float i at byte 4i), the first at column
   * {@code col}, the rest D apart; token i sits at position pos[i]. {@code inverse} applies the
   * transpose (the backward pass).
   */
  void apply(ByteBuffer x, int col, int width, int n, int cnt, int[] pos, boolean inverse) {
    apply(x, col, width, n, cnt, pos, inverse, Simd.VECTOR);
  }

  /** {@link #apply} on the Vector API or not (tests compare the two). */
  void apply(
      ByteBuffer x,
      int col,
      int width,
      int n,
      int cnt,
      int[] pos,
      boolean inverse,
      boolean vector) {
    int max = 0;
    for (int i = 0; i < n; i++) max = Math.max(max, pos[i]);
    ensure(max);
    float[] c = cos, s = sin;
    int d = 2 * half;
    float sign = inverse ? -1f : 1f;
    Parallel.range(
        n * cnt,
        (vector ? 1L : 4L) * d,
        (from, to) -> {
          if (vector) {
            for (int j = from; j < to; j++) {
              int i = j / cnt, o = i * width + col + (j % cnt) * d, at = pos[i] * half;
              int k = ElementwiseVector.rotate(x, o, half, c, s, at, sign);
              for (; k < half; k++) {
                float x1 = x.getFloat(4 * (o + k)), x2 = x.getFloat(4 * (o + half + k));
                float ci = c[at + k], si = sign * s[at + k];
                x.putFloat(4 * (o + k), x1 * ci - x2 * si);
                x.putFloat(4 * (o + half + k), x2 * ci + x1 * si);
              }
            }
            return;
          }
          FloatBuffer xf = x.asFloatBuffer();
          float[] v = new float[d];
          for (int j = from; j < to; j++) {
            int i = j / cnt, o = i * width + col + (j % cnt) * d;
            xf.get(o, v, 0, d);
            rotate(v, 0, c, s, pos[i] * half, sign);
            xf.put(o, v, 0, d);
          }
        });
  }

  /** One head vector at v[off, off + D) at position p (inverse when sign = −1). */
  void rotate(float[] v, int off, int p, boolean inverse) {
    ensure(p);
    rotate(v, off, cos, sin, p * half, inverse ? -1f : 1f);
  }

  private void rotate(float[] v, int off, float[] c, float[] s, int at, float sign) {
    for (int i = 0; i < half; i++) {
      float x1 = v[off + i], x2 = v[off + half + i];
      float ci = c[at + i], si = sign * s[at + i];
      v[off + i] = x1 * ci - x2 * si;
      v[off + half + i] = x2 * ci + x1 * si;
    }
  }
}
