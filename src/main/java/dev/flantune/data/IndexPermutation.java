package dev.flantune.data;

import dev.flantune.tasks.Seeds;

/**
 * A seeded bijection on {@code [0, n)} in O(1) memory: a 4-round Feistel network on the smallest
 * even-bit power-of-two domain ≥ n, with cycle walking to stay inside {@code [0, n)}. It lets the
 * mixture shuffle a task of any size without holding a permutation array (which, at 4 bytes per
 * example, is what would stop a larger-than-memory collection).
 */
public final class IndexPermutation {
  private final long n;
  private final int halfBits;
  private final long halfMask;
  private final long key;

  public IndexPermutation(long n, long seed) {
    if (n <= 0) throw new IllegalArgumentException("permutation size must be positive, got " + n);
    int bits = 64 - Long.numberOfLeadingZeros(Math.max(1, n - 1));
    this.n = n;
    this.halfBits = Math.max(1, (bits + 1) / 2);
    this.halfMask = (1L << halfBits) - 1;
    this.key = Seeds.mix64(seed);
  }

  public long size() {
    return n;
  }

  /** The image of {@code i} ({@code 0 ≤ i < n}). */
  public long apply(long i) {
    if (i < 0 || i >= n) throw new IndexOutOfBoundsException(i + " not in [0, " + n + ")");
    long x = i;
    do {
      x = feistel(x);
    } while (x >= n); // the domain is < 4n, so this loops fewer than 4 times on average
    return x;
  }

  private long feistel(long x) {
    long left = x >>> halfBits;
    long right = x & halfMask;
    for (int round = 0; round < 4; round++) {
      long f = Seeds.mix64(right ^ key ^ ((long) round << 56)) & halfMask;
      long next = left ^ f;
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }
}
