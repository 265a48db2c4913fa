package dev.flantune.eval.metrics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Exact match and token F1 as in the official SQuAD v1.1 evaluation script. Both compare answers
 * after {@link #normalize}; with several references the best one counts.
 *
 * <p>v1.1 semantics, kept on purpose: F1 is 0 when either side normalizes to nothing, even when
 * both do (SQuAD v2's script gives 1 there); exact match is then 1.
 */
public final class Squad {
  private static final String ASCII_PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  private static final String[] ARTICLES = {"a", "an", "the"}; // regex alternation order

  private Squad() {}

  /**
   * Lowercase, drop ASCII punctuation, replace the words a/an/the by a space, collapse whitespace.
   */
  public static String normalize(String s) {
    String lower = PythonText.lower(s);
    StringBuilder noPunct = new StringBuilder(lower.length());
    lower
        .codePoints()
        .filter(cp -> cp > 0x7F || ASCII_PUNCTUATION.indexOf(cp) < 0)
        .forEach(noPunct::appendCodePoint);
    return String.join(" ", PythonText.split(removeArticles(noPunct.toString())));
  }

  /**
   * {@code re.sub(r'\b(a|an|the)\b', ' ', text)} with Python's notion of a word character: at each
   * position the alternatives are tried in order, the first that ends on a boundary wins, and
   * scanning resumes after it.
   */
  static String removeArticles(String text) {
    StringBuilder out = new StringBuilder(text.length());
    int i = 0, n = text.length();
    while (i < n) {
      boolean boundaryBefore = i == 0 || !PythonText.isWordChar(text.codePointBefore(i));
      int end = -1;
      if (boundaryBefore) {
        for (String article : ARTICLES) {
          int e = i + article.length();
          if (text.startsWith(article, i)
              && (e == n || !PythonText.isWordChar(text.codePointAt(e)))) {
            end = e;
            break;
          }
        }
      }
      if (end >= 0) {
        out.append(' ');
        i = end;
      } else {
        int cp = text.codePointAt(i);
        out.appendCodePoint(cp);
        i += Character.charCount(cp);
      }
    }
    return out.toString();
  }

  /** 1 if the prediction equals some reference after normalization, else 0. */
  public static double exactMatch(String prediction, List<String> references) {
    requireReferences(references);
    String p = normalize(prediction);
    for (String r : references) if (p.equals(normalize(r))) return 1.0;
    return 0.0;
  }

  /** The best token-overlap F1 of the prediction against any reference. */
  public static double f1(String prediction, List<String> references) {
    requireReferences(references);
    List<String> p = PythonText.split(normalize(prediction));
    double best = 0;
    for (String r : references) best = Math.max(best, f1(p, PythonText.split(normalize(r))));
    return best;
  }

  private static double f1(List<String> prediction, List<String> reference) {
    Map<String, Integer> refCounts = new HashMap<>();
    for (String t : reference) refCounts.merge(t, 1, Integer::sum);
    int same = 0;
    for (String t : prediction) {
      Integer c = refCounts.get(t);
      if (c != null && c > 0) {
        same++;
        refCounts.put(t, c - 1);
      }
    }
    if (same == 0) return 0.0;
    double precision = (double) same / prediction.size();
    double recall = (double) same / reference.size();
    return 2 * precision * recall / (precision + recall);
  }

  private static void requireReferences(List<String> references) {
    if (references.isEmpty())
      throw new IllegalArgumentException("at least one reference is needed");
  }
}
