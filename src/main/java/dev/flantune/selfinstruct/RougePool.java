package dev.flantune.selfinstruct;

import dev.flantune.eval.metrics.Rouge;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The highest ROUGE-L F-measure of a candidate against every instruction in a growing pool, the
 * filter that makes Self-Instruct's pool diverse, and its O(n²) cost. Numbers equal {@link
 * Rouge#score}'s (same tokenizer; the test checks it); the speed comes from three things:
 *
 * <ul>
 *   <li>each pool instruction is tokenized once, into int ids of a shared vocabulary;
 *   <li>the LCS runs bit-parallel (Hyyrö, 2004): one 64-bit word carries a row of the DP table for
 *       a candidate of up to 64 tokens, so a pair costs O(|pool instruction|) word operations
 *       (longer candidates fall back to the plain DP over ints);
 *   <li>a pair is skipped when even a perfect LCS could not beat the best score found so far: F ≤
 *       2·min(m, n)/(m + n). The maximum stays exact.
 * </ul>
 */
public final class RougePool {
  private final Map<String, Integer> vocabulary = new HashMap<>();
  private final List<int[]> pool = new ArrayList<>();
  private long[] masks = new long[0]; // per token id: the candidate positions holding it

  /** rouge-score's tokens of {@code text} as ids (new words get new ids). */
  int[] ids(String text) {
    List<String> tokens = Rouge.tokenize(text);
    int[] out = new int[tokens.size()];
    for (int i = 0; i < out.length; i++)
      out[i] = vocabulary.computeIfAbsent(tokens.get(i), k -> vocabulary.size());
    return out;
  }

  public void add(String instruction) {
    pool.add(ids(instruction));
  }

  public int size() {
    return pool.size();
  }

  /** The highest ROUGE-L F-measure of {@code candidate} against the pool; 0 for an empty pool. */
  public double maxRougeL(String candidate) {
    int[] a = ids(candidate);
    if (a.length == 0) return 0;
    boolean bitParallel = a.length <= 64;
    if (bitParallel) setMasks(a, true);
    double best = 0;
    try {
      for (int[] b : pool) {
        if (b.length == 0) continue;
        int m = a.length, n = b.length;
        if (2.0 * Math.min(m, n) / (m + n) <= best) continue;
        int lcs = bitParallel ? lcsBits(m, b) : lcsDp(a, b);
        double f = fmeasure(lcs, m, n);
        if (f > best) best = f;
      }
    } finally {
      if (bitParallel) setMasks(a, false);
    }
    return best;
  }

  /** ROUGE-L F: precision lcs/n, recall lcs/m (symmetric in the two texts). */
  static double fmeasure(int lcs, int m, int n) {
    if (lcs == 0) return 0;
    double p = (double) lcs / n, r = (double) lcs / m;
    return 2 * p * r / (p + r);
  }

  private void setMasks(int[] a, boolean set) {
    if (masks.length < vocabulary.size()) masks = Arrays.copyOf(masks, vocabulary.size() * 2);
    for (int i = 0; i < a.length; i++) {
      if (set) masks[a[i]] |= 1L << i;
      else masks[a[i]] = 0;
    }
  }

  /**
   * LCS length of the candidate (its positions in {@link #masks}, {@code m} ≤ 64 of them) and
   * {@code b}: V starts all ones; per token of b, U = V & M[token], V = (V + U) | (V − U); the
   * zeros among V's low m bits count the LCS. Carries and borrows only move upward, so bits above m
   * never disturb the count.
   */
  private int lcsBits(int m, int[] b) {
    long v = -1L;
    long[] mk = masks;
    for (int token : b) {
      long u = v & (token < mk.length ? mk[token] : 0L);
      v = (v + u) | (v - u);
    }
    long low = m == 64 ? -1L : (1L << m) - 1;
    return m - Long.bitCount(v & low);
  }

  /** The textbook LCS DP over ids, one row at a time. */
  static int lcsDp(int[] a, int[] b) {
    int[] prev = new int[b.length + 1], cur = new int[b.length + 1];
    for (int i = 1; i <= a.length; i++) {
      for (int j = 1; j <= b.length; j++)
        cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      int[] swap = prev;
      prev = cur;
      cur = swap;
    }
    return prev[b.length];
  }
}
