package dev.flantune.eval.contamination;

/**
 * Word n-grams as 64-bit hashes, the unit of the contamination check. A text is lowercased and
 * split into words, each a maximal run of letters and digits (so punctuation, whitespace and markup
 * never matter: "Paris," and "paris" are the same word). An n-gram is n consecutive words; its hash
 * is a polynomial in the words' hashes, mixed and tagged with n, so grams of different lengths
 * never collide by construction and 64 bits make accidental collisions negligible (about 10⁻⁸ for
 * 10⁵ held-out grams against 10⁹ corpus grams).
 *
 * <p>A {@link Stream} feeds words one at a time and yields, after each, the hashes of the grams of
 * every length 1…{@code maxN} that end there: O(maxN) multiply-adds a word, whatever the text.
 */
final class WordNgrams {
  private static final long P = 0x9E3779B97F4A7C15L; // odd multiplier of the polynomial

  private WordNgrams() {}

  /** Calls {@code sink} with each word's hash, in order. */
  static void words(CharSequence text, java.util.function.LongConsumer sink) {
    int i = 0, len = text.length();
    while (i < len) {
      while (i < len && !Character.isLetterOrDigit(Character.codePointAt(text, i)))
        i += Character.charCount(Character.codePointAt(text, i));
      if (i >= len) break;
      long h = 0xcbf29ce484222325L; // FNV-1a over the lowercased code points
      while (i < len) {
        int cp = Character.codePointAt(text, i);
        if (!Character.isLetterOrDigit(cp)) break;
        h = (h ^ Character.toLowerCase(cp)) * 0x100000001b3L;
        i += Character.charCount(cp);
      }
      sink.accept(h);
    }
  }

  /** The number of words in {@code text}, as {@link #words} splits it. */
  static int count(CharSequence text) {
    int[] n = {0};
    words(text, h -> n[0]++);
    return n[0];
  }

  /** The key stored for a gram: its polynomial hash mixed with its length; never 0. */
  static long key(long polynomial, int n) {
    long z = polynomial + n * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    z ^= z >>> 31;
    return z == 0 ? 1 : z;
  }

  /** Rolling hashes of the grams ending at the latest word, for every length 1…maxN. */
  static final class Stream {
    private final long[] poly; // poly[m] = hash of the last m words (m ≤ words seen)
    private final int maxN;
    private long seen;

    Stream(int maxN) {
      this.maxN = maxN;
      this.poly = new long[maxN + 1];
    }

    /** Starts a new text: no gram crosses from the previous one. */
    void reset() {
      seen = 0;
    }

    /** Adds one word; afterwards {@link #has(int)} and {@link #key(int)} describe the new grams. */
    void push(long word) {
      // H_m(i) = w_i + P·H_{m-1}(i-1), computed from the longest down so each reads the old value.
      for (int m = maxN; m >= 1; m--) poly[m] = word + P * poly[m - 1];
      seen++;
    }

    /** Whether a gram of {@code m} words ends at the latest word. */
    boolean has(int m) {
      return seen >= m;
    }

    long key(int m) {
      return WordNgrams.key(poly[m], m);
    }
  }
}
