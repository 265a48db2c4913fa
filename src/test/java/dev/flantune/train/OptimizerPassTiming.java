package dev.flantune.train;

import dev.flantune.model.FlatParameters;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Not a test: times the optimizer's passes over a GPT-2-small-sized flat buffer (124.4M floats),
 * variant A and B alternated in one process, medians reported, for issue #17's records (the machine
 * is shared, so only same-process alternations compare). Run from the project root after {@code
 * mvnl -o -B -q test-compile}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx2g -cp 'target/classes:target/test-classes:target/lib/*' \
 *     dev.flantune.train.OptimizerPassTiming [rounds]
 * </pre>
 */
public final class OptimizerPassTiming {
  private OptimizerPassTiming() {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
    long n = 124_439_808L; // GPT-2 small's parameters
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("w", new long[] {n - 100_000});
    shapes.put("b", new long[] {100_000});
    FlatParameters params = FlatParameters.zeros(shapes, (name, s) -> name.equals("w"));
    params.flat().assign(Nd4j.rand(DataType.FLOAT, n).subi(0.5));
    FlatParameters grads = params.zerosLike();
    INDArray saved = Nd4j.rand(DataType.FLOAT, n).subi(0.5).muli(1e-2);
    AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, 1e-8, 0.1), params, true);
    double[] updateThenZero = new double[rounds], zero = new double[rounds];
    double[] updateZeroing = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      grads.flat().assign(saved);
      long t0 = System.nanoTime();
      adam.update(grads, 1e-4, 1.0, false);
      long t1 = System.nanoTime();
      grads.flat().assign(0);
      long t2 = System.nanoTime();
      updateThenZero[r] = (t1 - t0) / 1e6;
      zero[r] = (t2 - t1) / 1e6;
      grads.flat().assign(saved);
      long t3 = System.nanoTime();
      adam.update(grads, 1e-4, 1.0, true);
      updateZeroing[r] = (System.nanoTime() - t3) / 1e6;
    }
    System.out.printf(
        "AdamW then a zeroing pass: %.1f + %.1f ms; AdamW zeroing in its pass: %.1f ms"
            + " (medians of %d, alternated; load %s)%n",
        median(updateThenZero), median(zero), median(updateZeroing), rounds, load());
  }

  static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  static String load() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
