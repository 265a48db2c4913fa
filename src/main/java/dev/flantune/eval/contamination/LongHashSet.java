package dev.flantune.eval.contamination;

/**
 * A set of 64-bit n-gram hashes: open addressing with linear probing in one {@code long[]}, 8 bytes
 * a slot at most half full, so about 16 bytes per element and no per-element objects. The value 0
 * marks an empty slot; callers' hashes are never 0 ({@link WordNgrams} maps 0 to 1).
 */
final class LongHashSet {
  private long[] slots;
  private int size;

  LongHashSet(int expected) {
    int cap = 16;
    while (cap < 2L * Math.max(1, expected)) cap <<= 1;
    slots = new long[cap];
  }

  int size() {
    return size;
  }

  /** Adds {@code h} (non-zero); true when it was not there yet. */
  boolean add(long h) {
    if (2 * (size + 1) > slots.length) grow();
    if (insert(slots, h)) {
      size++;
      return true;
    }
    return false;
  }

  boolean contains(long h) {
    int mask = slots.length - 1;
    for (int i = index(h, mask); ; i = (i + 1) & mask) {
      long s = slots[i];
      if (s == h) return true;
      if (s == 0) return false;
    }
  }

  /** Bytes held by the table (for the report's memory figure). */
  long bytes() {
    return 8L * slots.length;
  }

  private static boolean insert(long[] table, long h) {
    if (h == 0) throw new IllegalArgumentException("0 is the empty-slot marker");
    int mask = table.length - 1;
    for (int i = index(h, mask); ; i = (i + 1) & mask) {
      long s = table[i];
      if (s == h) return false;
      if (s == 0) {
        table[i] = h;
        return true;
      }
    }
  }

  private void grow() {
    long[] bigger = new long[slots.length * 2];
    for (long s : slots) if (s != 0) insert(bigger, s);
    slots = bigger;
  }

  /** The hashes are already mixed; fold the high bits in so the low-bit index uses all 64. */
  private static int index(long h, int mask) {
    return (int) (h ^ (h >>> 32)) & mask;
  }
}
