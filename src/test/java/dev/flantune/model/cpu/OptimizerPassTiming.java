package dev.flantune.model.cpu;

import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Not a test: times the optimizer's passes over a GPT-2-small-sized flat buffer (124.4M floats),
 * the variants alternated in one process and medians reported, for issue #17's records (the machine
 * is shared, so only same-process alternations compare). From the project root after {@code mvnl -o
 * -B -q test-compile}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx2g -cp 'target/classes:target/test-classes:target/lib/*' \
 *     dev.flantune.model.cpu.OptimizerPassTiming [rounds]
 * </pre>
 */
public final class OptimizerPassTiming {
  private OptimizerPassTiming() {}

  private static final int N = 124_439_808; // GPT-2 small's parameters
  private static final int DECAYED = N - 100_000;

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    INDArray p = Nd4j.rand(DataType.FLOAT, N).subi(0.5), g = Nd4j.zeros(DataType.FLOAT, N);
    INDArray m = Nd4j.zeros(DataType.FLOAT, N), v = Nd4j.zeros(DataType.FLOAT, N);
    INDArray saved = Nd4j.rand(DataType.FLOAT, N).subi(0.5).muli(1e-2);
    String[] names = {
      "AdamW plain loops, then a zeroing pass (before #17's fusion)",
      "  of which the zeroing pass",
      "AdamW plain loops zeroing in the pass",
      "AdamW Vector API zeroing in the pass",
      "gradient norm, chunks copied to arrays",
      "gradient norm, Vector API on the buffer"
    };
    double[][] ms = new double[names.length][rounds];
    for (int r = 0; r < rounds; r++) {
      g.assign(saved);
      long t0 = System.nanoTime();
      adamW(p, g, m, v, false, false);
      long t1 = System.nanoTime();
      g.assign(0);
      long t2 = System.nanoTime();
      ms[0][r] = (t2 - t0) / 1e6;
      ms[1][r] = (t2 - t1) / 1e6;
      g.assign(saved);
      t0 = System.nanoTime();
      adamW(p, g, m, v, true, false);
      ms[2][r] = (System.nanoTime() - t0) / 1e6;
      g.assign(saved);
      t0 = System.nanoTime();
      adamW(p, g, m, v, true, true);
      ms[3][r] = (System.nanoTime() - t0) / 1e6;
      t0 = System.nanoTime();
      double a = chunkedNorm(saved);
      t1 = System.nanoTime();
      double b = vectorNorm(saved);
      t2 = System.nanoTime();
      if (a != b) throw new AssertionError(a + " != " + b);
      ms[4][r] = (t1 - t0) / 1e6;
      ms[5][r] = (t2 - t1) / 1e6;
    }
    System.out.printf("%d rounds alternated, 124.4M floats; load %s%n", rounds, load());
    for (int i = 0; i < names.length; i++) {
      double[] s = ms[i].clone();
      Arrays.sort(s);
      System.out.printf(
          "%-62s median %6.1f ms  (min %.1f, max %.1f)%n",
          names[i], s[rounds / 2], s[0], s[rounds - 1]);
    }
  }

  /** AdamW's fused pass as AdamW runs it: over the cores, the decayed prefix first. */
  private static void adamW(
      INDArray p, INDArray g, INDArray m, INDArray v, boolean zero, boolean vector) {
    ByteBuffer bp = OptimizerKernels.bytes(p), bg = OptimizerKernels.bytes(g);
    ByteBuffer bm = OptimizerKernels.bytes(m), bv = OptimizerKernels.bytes(v);
    OptimizerKernels.AdamWStep k =
        new OptimizerKernels.AdamWStep(0.9f, 0.1f, 0.999f, 0.001f, 0.5f, 1e-8f, 1e-4f, 1f, zero);
    Parallel.range(
        N,
        8,
        (from, to) -> {
          int split = Math.max(from, Math.min(to, DECAYED));
          OptimizerKernels.adamW(bp, 0, bg, 0, bm, 0, bv, 0, from, split, 0.99999f, k, vector);
          OptimizerKernels.adamW(bp, 0, bg, 0, bm, 0, bv, 0, split, to, 1f, k, vector);
        });
  }

  private static final int BLOCK = 1 << 14;

  /** The gradient norm before the Vector API: each block copied into an array, then summed. */
  private static double chunkedNorm(INDArray x) {
    FloatBuffer fb = x.data().asNioFloat();
    int blocks = (N + BLOCK - 1) / BLOCK;
    double[] partial = new double[blocks];
    Parallel.range(
        blocks,
        BLOCK,
        (from, to) -> {
          float[] chunk = new float[BLOCK];
          for (int b = from; b < to; b++) {
            int start = b * BLOCK, len = Math.min(BLOCK, N - start);
            fb.get(start, chunk, 0, len);
            partial[b] = OptimizerReference.sumOfSquares(chunk, len);
          }
        });
    double total = 0;
    for (double d : partial) total += d;
    return Math.sqrt(total);
  }

  /** FlatParameters.norm2's loop. */
  private static double vectorNorm(INDArray x) {
    ByteBuffer bytes = OptimizerKernels.bytes(x);
    int blocks = (N + BLOCK - 1) / BLOCK;
    double[] partial = new double[blocks];
    Parallel.range(
        blocks,
        BLOCK,
        (from, to) -> {
          for (int b = from; b < to; b++) {
            int start = b * BLOCK;
            partial[b] = OptimizerKernels.sumOfSquares(bytes, start, Math.min(BLOCK, N - start));
          }
        });
    double total = 0;
    for (double d : partial) total += d;
    return Math.sqrt(total);
  }

  private static String load() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
