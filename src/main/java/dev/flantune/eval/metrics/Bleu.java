package dev.flantune.eval.metrics;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU exactly as sacrebleu 2.x computes it with its defaults: 13a tokenization, case-sensitive,
 * n-grams up to 4, brevity penalty against the closest reference length (the shorter on ties), and
 * smooth_method "exp" (the NIST/mteval smoothing: the k-th order with no match counts as 1/(2^k ·
 * total)). Scores are on sacrebleu's 0–100 scale.
 *
 * <ul>
 *   <li>{@link #corpus}: {@code BLEU().corpus_score}: statistics summed over segments, then one
 *       score; no effective order, so a corpus with no 4-gram at all scores 0.
 *   <li>{@link #sentence}: {@code sacrebleu.sentence_bleu}: the same on one segment with effective
 *       order, i.e. orders the hypothesis is too short for are left out of the mean.
 * </ul>
 *
 * <p>References are given per segment ({@code references.get(i)} are segment i's), the transpose of
 * sacrebleu's reference streams. Empty references are dropped, as sacrebleu does for variable
 * reference counts; a segment with none left is an error there and here.
 */
public final class Bleu {
  public static final int MAX_ORDER = 4;

  private Bleu() {}

  /** Sufficient statistics of one segment or, summed, of a corpus. */
  public record Stats(long hypLen, long refLen, long[] correct, long[] total) {
    public Stats plus(Stats o) {
      long[] c = new long[MAX_ORDER], t = new long[MAX_ORDER];
      for (int n = 0; n < MAX_ORDER; n++) {
        c[n] = correct[n] + o.correct[n];
        t[n] = total[n] + o.total[n];
      }
      return new Stats(hypLen + o.hypLen, refLen + o.refLen, c, t);
    }

    public static Stats zero() {
      return new Stats(0, 0, new long[MAX_ORDER], new long[MAX_ORDER]);
    }
  }

  /** A score (0–100) with the n-gram precisions (0–100) and brevity penalty behind it. */
  public record Score(double score, double[] precisions, double brevityPenalty, Stats stats) {
    @Override
    public String toString() {
      return String.format(
          "BLEU %.2f %s BP %.3f hyp_len %d ref_len %d",
          score, Arrays.toString(precisions), brevityPenalty, stats.hypLen, stats.refLen);
    }
  }

  public static Score corpus(List<String> hypotheses, List<List<String>> references) {
    if (hypotheses.size() != references.size()) {
      throw new IllegalArgumentException(
          hypotheses.size() + " hypotheses but " + references.size() + " reference lists");
    }
    Stats sum = Stats.zero();
    for (int i = 0; i < hypotheses.size(); i++)
      sum = sum.plus(stats(hypotheses.get(i), references.get(i)));
    return score(sum, false);
  }

  public static Score sentence(String hypothesis, List<String> references) {
    return score(stats(hypothesis, references), true);
  }

  /** The statistics of one segment against its references. */
  public static Stats stats(String hypothesis, List<String> references) {
    Map<String, Integer> refMax = new HashMap<>();
    long[] refLens =
        references.stream()
            .filter(r -> r != null && !r.isEmpty())
            .mapToLong(
                r -> {
                  List<String> tokens = PythonText.split(preprocess(r));
                  ngrams(tokens).forEach((g, c) -> refMax.merge(g, c, Math::max));
                  return tokens.size();
                })
            .toArray();
    if (refLens.length == 0)
      throw new IllegalArgumentException("a segment has no non-empty reference");
    List<String> hyp = PythonText.split(preprocess(hypothesis));
    long[] correct = new long[MAX_ORDER], total = new long[MAX_ORDER];
    ngrams(hyp)
        .forEach(
            (g, c) -> {
              int n = order(g) - 1;
              total[n] += c;
              Integer r = refMax.get(g);
              if (r != null) correct[n] += Math.min(c, r);
            });
    return new Stats(hyp.size(), closestRefLen(hyp.size(), refLens), correct, total);
  }

  /** sacrebleu's {@code _preprocess_segment}: trailing whitespace stripped, then 13a. */
  static String preprocess(String segment) {
    return Tokenizer13a.tokenize(PythonText.rstrip(segment));
  }

  /** n-grams of orders 1..4 keyed by their tokens joined with spaces (tokens never hold one). */
  private static Map<String, Integer> ngrams(List<String> tokens) {
    Map<String, Integer> counts = new HashMap<>();
    for (int n = 1; n <= MAX_ORDER; n++) {
      for (int i = 0; i + n <= tokens.size(); i++)
        counts.merge(String.join(" ", tokens.subList(i, i + n)), 1, Integer::sum);
    }
    return counts;
  }

  private static int order(String ngram) {
    return (int) ngram.chars().filter(ch -> ch == ' ').count() + 1;
  }

  private static long closestRefLen(long hypLen, long[] refLens) {
    long closestDiff = -1, closestLen = -1;
    for (long len : refLens) {
      long diff = Math.abs(hypLen - len);
      if (closestDiff == -1 || diff < closestDiff) {
        closestDiff = diff;
        closestLen = len;
      } else if (diff == closestDiff && len < closestLen) {
        closestLen = len;
      }
    }
    return closestLen;
  }

  /** sacrebleu's {@code compute_bleu} with smooth_method "exp". */
  public static Score score(Stats s, boolean effectiveOrder) {
    double bp =
        s.hypLen < s.refLen
            ? (s.hypLen > 0 ? Math.exp(1 - (double) s.refLen / s.hypLen) : 0.0)
            : 1.0;
    double[] precisions = new double[MAX_ORDER];
    if (Arrays.stream(s.correct).allMatch(c -> c == 0)) return new Score(0.0, precisions, bp, s);
    double smooth = 1.0;
    int effOrder = MAX_ORDER;
    for (int n = 1; n <= MAX_ORDER; n++) {
      if (s.total[n - 1] == 0) break;
      if (effectiveOrder) effOrder = n;
      if (s.correct[n - 1] == 0) {
        smooth *= 2;
        precisions[n - 1] = 100.0 / (smooth * s.total[n - 1]);
      } else {
        precisions[n - 1] = 100.0 * s.correct[n - 1] / s.total[n - 1];
      }
    }
    double logSum = 0;
    // sacrebleu's my_log: log(0) is floored at -9999999999, which makes the score exactly 0.
    for (int n = 0; n < effOrder; n++)
      logSum += precisions[n] == 0.0 ? -9999999999.0 : Math.log(precisions[n]);
    return new Score(bp * Math.exp(logSum / effOrder), precisions, bp, s);
  }
}
