package dev.flantune.model;

import dev.flantune.data.Batch;

/**
 * Which keys each query attends to: query i (row r, position q) sees keys [0, shared[i]) ∪ [lo[i],
 * q] of its row. Training batches: lo = the start of q's segment, shared = 0 (packed examples never
 * see each other). Scoring: continuations that share a context also see it. Padding: lo = q + 1 and
 * shared = 0, i.e. nothing. The graph engine expands the same rule into an additive bias ({@link
 * AttentionBias}).
 */
public record KeyRanges(int[] shared, int[] lo) {
  /** Causal within each segment of the batch. */
  public static KeyRanges of(Batch b) {
    int t = b.length();
    int[] seg = b.segmentIds(), lo = new int[seg.length];
    for (int i = 0; i < seg.length; i++) {
      int q = i % t;
      if (seg[i] == 0) lo[i] = q + 1;
      else lo[i] = q > 0 && seg[i - 1] == seg[i] ? lo[i - 1] : q;
    }
    return new KeyRanges(new int[seg.length], lo);
  }

  /**
   * The ranges an additive bias [rows, T, T] (0 = attend, else masked) describes, or null when it
   * is not of that form.
   */
  public static KeyRanges ofBias(float[] bias, int rows, int t) {
    int n = rows * t;
    int[] shared = new int[n], lo = new int[n];
    for (int i = 0; i < n; i++) {
      int q = i % t, o = i * t;
      for (int k = q + 1; k < t; k++) if (bias[o + k] == 0f) return null;
      if (bias[o + q] != 0f) { // sees nothing, or not of this form
        for (int k = 0; k < q; k++) if (bias[o + k] == 0f) return null;
        lo[i] = q + 1;
        continue;
      }
      int start = q;
      while (start > 0 && bias[o + start - 1] == 0f) start--;
      int sh = 0;
      if (start > 0) {
        while (sh < start && bias[o + sh] == 0f) sh++;
        for (int k = sh; k < start; k++) if (bias[o + k] == 0f) return null;
      }
      shared[i] = sh;
      lo[i] = start;
    }
    return new KeyRanges(shared, lo);
  }
}
