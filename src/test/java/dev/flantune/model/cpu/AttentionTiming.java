package dev.flantune.model.cpu;

import dev.flantune.data.Batch;
import dev.flantune.model.KeyRanges;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;

/**
 * Not a test: times the fused attention's forward and backward, token-major and causal as the
 * engine runs them, on the SmolLM2-135M and config (ii) head shapes at T256 B4 and T1024 B1 (ms per
 * layer call, medians), for issue #17's records. From the project root after {@code mvnl -o -B -q
 * test-compile}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp 'target/classes:target/test-classes:target/lib/*' \
 *     dev.flantune.model.cpu.AttentionTiming [rounds]
 * </pre>
 *
 * <p>On a shared machine, {@code -XX:ActiveProcessorCount=1 -Dcpu=true} times one core by its CPU
 * time.
 */
public final class AttentionTiming {
  private AttentionTiming() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    int[][] shapes = { // rows, T, H, KV, D
      {4, 256, 9, 3, 64}, {1, 1024, 9, 3, 64}, {4, 256, 8, 8, 64}, {1, 1024, 8, 8, 64},
    };
    System.out.printf(
        "%-28s %12s %12s %14s%n", "shape (B T H KV D)", "forward ms", "backward ms", "GFLOP/s f+b");
    for (int pass = 0; pass < 2; pass++) // the first pass warms every shape up; the second prints
    for (int[] sh : shapes) time(sh, pass == 0 ? 1 : rounds, pass == 1);
  }

  private static void time(int[] sh, int rounds, boolean print) {
    {
      FusedAttention.Dims dm = new FusedAttention.Dims(sh[0], sh[1], sh[2], sh[3], sh[4], true);
      int n = dm.rows() * dm.t(), w = dm.stride(), a = dm.nH() * dm.d();
      Random r = new Random(1);
      FloatBuffer heads = direct(n * w, r), dy = direct(n * a, r);
      FloatBuffer y = direct(n * a, null), dheads = direct(n * w, null);
      float[] lse = new float[dm.rows() * dm.nH() * dm.t()];
      KeyRanges keys = causal(dm);
      float scale = (float) (1 / Math.sqrt(dm.d()));
      double[] f = new double[rounds], b = new double[rounds];
      for (int i = 0; i < 40; i++) { // warm-up: the backward needs ~30-40 calls to settle
        FusedAttention.forward(heads, y, lse, keys, dm, scale);
        FusedAttention.backward(heads, y, lse, dy, dheads, keys, dm, scale);
      }
      for (int i = 0; i < rounds; i++) {
        long t0 = now();
        FusedAttention.forward(heads, y, lse, keys, dm, scale);
        long t1 = now();
        FusedAttention.backward(heads, y, lse, dy, dheads, keys, dm, scale);
        long t2 = now();
        f[i] = (t1 - t0) / 1e6;
        b[i] = (t2 - t1) / 1e6;
      }
      double fm = median(f), bm = median(b);
      // causal FLOPs: 2 products forward, 5 backward, each 2·T²/2·D per head
      double flop = 7.0 * dm.rows() * dm.nH() * (double) dm.t() * dm.t() * dm.d();
      if (print)
        System.out.printf(
            "%-28s %12.2f %12.2f %14.1f%n", Arrays.toString(sh), fm, bm, flop / ((fm + bm) * 1e6));
    }
  }

  /**
   * -Dcpu=true: the calling thread's CPU time, for one-core runs ({@code
   * -XX:ActiveProcessorCount=1}, every kernel on the calling thread) on a machine shared with other
   * jobs; wall time otherwise.
   */
  private static long now() {
    return Boolean.getBoolean("cpu")
        ? java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime()
        : System.nanoTime();
  }

  private static FloatBuffer direct(int n, Random r) {
    FloatBuffer f = ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer();
    if (r != null) for (int i = 0; i < n; i++) f.put(i, (float) r.nextGaussian());
    return f;
  }

  private static KeyRanges causal(FusedAttention.Dims dm) {
    int t = dm.t(), n = dm.rows() * t;
    int[] seg = new int[n], pos = new int[n], ids = new int[n];
    for (int i = 0; i < n; i++) {
      pos[i] = i % t;
      seg[i] = 1;
    }
    return KeyRanges.of(new Batch(dm.rows(), t, ids, pos, seg, ids, new float[n]));
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
