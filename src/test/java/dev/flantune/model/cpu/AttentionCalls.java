package dev.flantune.model.cpu;

import dev.flantune.data.Batch;
import dev.flantune.model.KeyRanges;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Not a test: one timed forward and backward of the fused attention on a cached causal, token-major
 * shape with head size 64, for {@link AttentionAB}, which loads this class once per build under
 * comparison.
 */
public final class AttentionCalls {
  private AttentionCalls() {}

  private static final Map<String, Object[]> INPUTS = new HashMap<>();

  /** One forward and one backward on (rows, T, H, KV); returns their nanoseconds. */
  public static long[] run(int rows, int t, int nH, int nKv) {
    Object[] in =
        INPUTS.computeIfAbsent(
            rows + "," + t + "," + nH + "," + nKv, k -> inputs(rows, t, nH, nKv));
    FusedAttention.Dims dm = (FusedAttention.Dims) in[0];
    FloatBuffer heads = (FloatBuffer) in[1], dy = (FloatBuffer) in[2];
    FloatBuffer y = (FloatBuffer) in[3], dheads = (FloatBuffer) in[4];
    float[] lse = (float[]) in[5];
    KeyRanges keys = (KeyRanges) in[6];
    float scale = 0.125f;
    long t0 = System.nanoTime();
    FusedAttention.forward(heads, y, lse, keys, dm, scale);
    long t1 = System.nanoTime();
    FusedAttention.backward(heads, y, lse, dy, dheads, keys, dm, scale);
    return new long[] {t1 - t0, System.nanoTime() - t1};
  }

  private static Object[] inputs(int rows, int t, int nH, int nKv) {
    FusedAttention.Dims dm = new FusedAttention.Dims(rows, t, nH, nKv, 64, true);
    int n = rows * t;
    Random r = new Random(1);
    int[] seg = new int[n], pos = new int[n], ids = new int[n];
    for (int i = 0; i < n; i++) {
      pos[i] = i % t;
      seg[i] = 1;
    }
    KeyRanges keys = KeyRanges.of(new Batch(rows, t, ids, pos, seg, ids, new float[n]));
    return new Object[] {
      dm,
      direct(n * dm.stride(), r),
      direct(n * nH * 64, r),
      direct(n * nH * 64, null),
      direct(n * dm.stride(), null),
      new float[rows * nH * t],
      keys
    };
  }

  private static FloatBuffer direct(int n, Random r) {
    FloatBuffer f = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    if (r != null) for (int i = 0; i < n; i++) f.put(i, (float) r.nextGaussian());
    return f;
  }
}
