package dev.flantune.selfinstruct;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.eval.metrics.Rouge;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pool's maximum ROUGE-L equals the project's ROUGE-L, however it is computed. */
class RougePoolTest {
  static final String[] WORDS = {
    "the", "a", "list", "sort", "write", "of", "numbers", "poem", "cat", "x"
  };

  static String randomText(SplittableRandom rng, int maxWords) {
    int n = rng.nextInt(maxWords + 1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++)
      sb.append(WORDS[rng.nextInt(WORDS.length)]).append(i % 7 == 3 ? ", " : " ");
    return sb.toString();
  }

  static double reference(String candidate, List<String> pool) {
    double best = 0;
    for (String p : pool)
      best = Math.max(best, Rouge.score(candidate, List.of(p)).rougeL().fmeasure());
    return best;
  }

  @Test
  void equalsRougeScoreOnWrittenCases() {
    RougePool pool = new RougePool();
    assertEquals(0.0, pool.maxRougeL("Sort the list of numbers."));
    pool.add("Sort the list of numbers in ascending order.");
    pool.add("Write a poem about a cat.");
    // LCS "sort the list of numbers" = 5 of 6 and 8 tokens: F = 2·(5/8)(5/6)/(5/8 + 5/6)
    double f = 2 * (5 / 8.0) * (5 / 6.0) / (5 / 8.0 + 5 / 6.0);
    assertEquals(f, pool.maxRougeL("Sort the list of numbers, descending."), 1e-15);
    assertEquals(1.0, pool.maxRougeL("WRITE a poem -- about a CAT!"), 1e-15);
    assertEquals(0.0, pool.maxRougeL("Élan vital?"), 0.0, "é splits words; no overlap");
  }

  @Test
  void equalsRougeScoreOnRandomPoolsShortAndLong() {
    SplittableRandom rng = new SplittableRandom(3);
    for (int trial = 0; trial < 40; trial++) {
      int maxWords = trial % 2 == 0 ? 20 : 90; // over 64 tokens: the plain-DP path
      List<String> texts = new ArrayList<>();
      RougePool pool = new RougePool();
      for (int i = 0; i < 30; i++) {
        String t = randomText(rng, maxWords);
        texts.add(t);
        pool.add(t);
      }
      for (int q = 0; q < 10; q++) {
        String c = randomText(rng, maxWords);
        assertEquals(reference(c, texts), pool.maxRougeL(c), 0.0, c);
      }
    }
  }

  @Test
  void bitParallelLcsAtTheWordBoundaryOf64Tokens() {
    SplittableRandom rng = new SplittableRandom(5);
    for (int m : new int[] {63, 64, 65}) {
      StringBuilder a = new StringBuilder();
      for (int i = 0; i < m; i++) a.append(WORDS[rng.nextInt(WORDS.length)]).append(' ');
      String b = randomText(rng, 80);
      RougePool pool = new RougePool();
      pool.add(b);
      assertEquals(reference(a.toString(), List.of(b)), pool.maxRougeL(a.toString()), 0.0);
    }
  }
}
