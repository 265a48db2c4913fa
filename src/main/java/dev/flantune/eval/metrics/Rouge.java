package dev.flantune.eval.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L as Google's rouge-score package computes them with {@code
 * use_stemmer=False}: lowercase, every run of characters other than [a-z0-9] becomes a space (so
 * accented letters split words), whitespace tokens; ROUGE-N from clipped n-gram overlap, ROUGE-L
 * from the longest common subsequence. With several references, each type independently takes the
 * reference with the best F-measure (the first on ties), as {@code score_multi} does.
 *
 * <p>Scores are per example on a 0–1 scale; a corpus figure is their mean.
 */
public final class Rouge {
  private Rouge() {}

  public record Score(double precision, double recall, double fmeasure) {
    static Score of(double precision, double recall) {
      double f = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
      return new Score(precision, recall, f);
    }
  }

  public record Scores(Score rouge1, Score rouge2, Score rougeL) {}

  /** rouge-score's tokenizer without stemming. */
  public static List<String> tokenize(String text) {
    String lower = PythonText.lower(text);
    List<String> tokens = new ArrayList<>();
    int start = -1;
    for (int i = 0; i <= lower.length(); i++) {
      char ch = i < lower.length() ? lower.charAt(i) : ' ';
      boolean keep = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
      if (keep && start < 0) start = i;
      if (!keep && start >= 0) {
        tokens.add(lower.substring(start, i));
        start = -1;
      }
    }
    return tokens;
  }

  public static Scores score(String prediction, List<String> references) {
    if (references.isEmpty())
      throw new IllegalArgumentException("at least one reference is needed");
    List<String> p = tokenize(prediction);
    Score best1 = null, best2 = null, bestL = null;
    for (String reference : references) {
      List<String> t = tokenize(reference);
      best1 = better(best1, rougeN(t, p, 1));
      best2 = better(best2, rougeN(t, p, 2));
      bestL = better(bestL, rougeL(t, p));
    }
    return new Scores(best1, best2, bestL);
  }

  private static Score better(Score best, Score candidate) {
    return best == null || candidate.fmeasure() > best.fmeasure() ? candidate : best;
  }

  static Score rougeN(List<String> target, List<String> prediction, int n) {
    Map<List<String>, Integer> t = ngrams(target, n), p = ngrams(prediction, n);
    long overlap = 0;
    for (Map.Entry<List<String>, Integer> e : t.entrySet())
      overlap += Math.min(e.getValue(), p.getOrDefault(e.getKey(), 0));
    long tCount = Math.max(0, target.size() - n + 1),
        pCount = Math.max(0, prediction.size() - n + 1);
    return Score.of((double) overlap / Math.max(pCount, 1), (double) overlap / Math.max(tCount, 1));
  }

  private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
    Map<List<String>, Integer> out = new HashMap<>();
    for (int i = 0; i + n <= tokens.size(); i++)
      out.merge(tokens.subList(i, i + n), 1, Integer::sum);
    return out;
  }

  static Score rougeL(List<String> target, List<String> prediction) {
    if (target.isEmpty() || prediction.isEmpty()) return new Score(0, 0, 0);
    int lcs = lcsLength(target, prediction);
    return Score.of((double) lcs / prediction.size(), (double) lcs / target.size());
  }

  /**
   * Length of the longest common subsequence, one DP row at a time (O(|a|·|b|) time, O(|b|)
   * memory).
   */
  static int lcsLength(List<String> a, List<String> b) {
    int[] prev = new int[b.size() + 1], cur = new int[b.size() + 1];
    for (int i = 1; i <= a.size(); i++) {
      for (int j = 1; j <= b.size(); j++) {
        cur[j] =
            a.get(i - 1).equals(b.get(j - 1)) ? prev[j - 1] + 1 : Math.max(prev[j], cur[j - 1]);
      }
      int[] swap = prev;
      prev = cur;
      cur = swap;
    }
    return prev[b.size()];
  }
}
