package dev.flantune.selfinstruct;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.eval.metrics.Rouge;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The ROUGE-L filter's O(n²) cost: n instructions, each checked against every one before it (as the
 * pool grows), with {@link RougePool} and with the plain {@link Rouge#score} loop. A benchmark: it
 * prints times and asserts only that both agree. Run: {@code mvn -o -q -B test -Pall-tests
 * -Dtest=RougePoolBench}; output in target/surefire-reports/…RougePoolBench-output.txt.
 */
@Tag("slow")
class RougePoolBench {
  /** Instruction-like texts: 6–24 words from a Zipf-ish vocabulary of 3,000. */
  static List<String> instructions(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int words = 6 + rng.nextInt(19);
      StringBuilder sb = new StringBuilder();
      for (int w = 0; w < words; w++) {
        int id = (int) Math.floor(Math.pow(rng.nextDouble(), 2.5) * 3000);
        sb.append(w == 0 ? "Write" : "w" + id).append(' ');
      }
      out.add(sb.append('.').toString());
    }
    return out;
  }

  static double[] poolTimes(List<String> texts) {
    RougePool pool = new RougePool();
    double[] best = new double[texts.size()];
    long t0 = System.nanoTime();
    for (int i = 0; i < texts.size(); i++) {
      best[i] = pool.maxRougeL(texts.get(i));
      pool.add(texts.get(i));
    }
    System.out.printf(
        "RougePool, %,d instructions: %.2f s%n", texts.size(), (System.nanoTime() - t0) / 1e9);
    return best;
  }

  static double[] plainTimes(List<String> texts) {
    double[] best = new double[texts.size()];
    long t0 = System.nanoTime();
    for (int i = 0; i < texts.size(); i++)
      for (int j = 0; j < i; j++)
        best[i] =
            Math.max(best[i], Rouge.score(texts.get(i), List.of(texts.get(j))).rougeL().fmeasure());
    System.out.printf(
        "Rouge.score loop, %,d instructions: %.2f s%n",
        texts.size(), (System.nanoTime() - t0) / 1e9);
    return best;
  }

  @Test
  void tenThousandInstructions() {
    poolTimes(instructions(2_000, 1)); // warm-up
    double[] fast = poolTimes(instructions(10_000, 2));
    assertEquals(10_000, fast.length);
    List<String> small = instructions(2_000, 3);
    assertArrayEquals(plainTimes(small), poolTimes(small), 0.0);
  }
}
