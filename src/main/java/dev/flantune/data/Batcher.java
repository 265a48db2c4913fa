package dev.flantune.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * Builds {@link Batch}es from tokenized examples, by padding (one example per row) or packing
 * (several whole examples per row, first-fit over the batch's rows, in arrival order).
 *
 * <p>Per example placed at row offset {@code o} with ids {@code x[0..L)} and input-aligned mask
 * {@code m}: {@code inputIds[o+i] = x[i]}, {@code positionIds[o+i] = i} (restarting per example),
 * {@code segmentIds[o+i] = s} (1-based example index in the row), {@code labels[o+i] = x[i+1]} and
 * {@code lossMask[o+i] = m[i+1]} for {@code i < L-1}; the example's last token (its EOS) predicts
 * nothing, so its label is the pad id and its mask 0, and no label ever reaches into the next
 * example. Padding has segment 0, mask 0. Since segments differ, attention never crosses examples
 * ({@code AttentionBias} is block-diagonal causal over segments).
 */
public final class Batcher {
  private Batcher() {}

  /**
   * One example per row, padded to {@code length} (or to the longest example if {@code length} is
   * 0).
   */
  public static Batch pad(List<TokenizedExample> examples, int length, int padId) {
    int t =
        length > 0 ? length : examples.stream().mapToInt(TokenizedExample::length).max().orElse(1);
    List<List<TokenizedExample>> rows = new ArrayList<>();
    for (TokenizedExample e : examples) {
      if (e.length() > t)
        throw new IllegalArgumentException(
            "example of " + e.length() + " tokens exceeds length " + t);
      rows.add(List.of(e));
    }
    return build(rows, t, padId);
  }

  /** Lays out rows of examples (each row's total length at most {@code length}) as one batch. */
  public static Batch build(List<List<TokenizedExample>> rows, int length, int padId) {
    int b = rows.size();
    int[] input = new int[b * length];
    int[] pos = new int[b * length];
    int[] seg = new int[b * length];
    int[] labels = new int[b * length];
    float[] mask = new float[b * length];
    Arrays.fill(input, padId);
    Arrays.fill(labels, padId);
    for (int r = 0; r < b; r++) {
      int o = r * length;
      int s = 0;
      for (TokenizedExample e : rows.get(r)) {
        s++;
        int[] x = e.ids();
        byte[] m = e.lossMask();
        if (o + x.length > (r + 1) * length)
          throw new IllegalArgumentException("row " + r + " overflows length " + length);
        for (int i = 0; i < x.length; i++) {
          input[o + i] = x[i];
          pos[o + i] = i;
          seg[o + i] = s;
          if (i + 1 < x.length) {
            labels[o + i] = x[i + 1];
            mask[o + i] = m[i + 1];
          }
        }
        o += x.length;
      }
    }
    return new Batch(b, length, input, pos, seg, labels, mask);
  }

  /** Padded batches of {@code rows} examples each (the last may have fewer rows). */
  public static Iterator<Batch> padded(
      Iterator<TokenizedExample> examples, int rows, int length, int padId) {
    return new Iterator<>() {
      public boolean hasNext() {
        return examples.hasNext();
      }

      public Batch next() {
        if (!examples.hasNext()) throw new NoSuchElementException();
        List<TokenizedExample> chunk = new ArrayList<>(rows);
        while (chunk.size() < rows && examples.hasNext()) chunk.add(examples.next());
        return pad(chunk, length, padId);
      }
    };
  }

  /**
   * Packed batches of {@code rows} × {@code length}: each example goes into the first row of the
   * current batch with room for it; when none has room the batch is emitted and a new one started.
   * Examples are never split. The last batch may have fewer rows.
   */
  public static Iterator<Batch> packed(
      Iterator<TokenizedExample> examples, int rows, int length, int padId) {
    return new Iterator<>() {
      private TokenizedExample carry;

      public boolean hasNext() {
        return carry != null || examples.hasNext();
      }

      public Batch next() {
        if (!hasNext()) throw new NoSuchElementException();
        List<List<TokenizedExample>> batch = new ArrayList<>(rows);
        int[] used = new int[rows];
        while (carry != null || examples.hasNext()) {
          TokenizedExample e = carry != null ? carry : examples.next();
          carry = null;
          if (e.length() > length)
            throw new IllegalArgumentException(
                "example of " + e.length() + " tokens exceeds length " + length);
          int r = 0;
          while (r < batch.size() && used[r] + e.length() > length) r++;
          if (r == batch.size()) {
            if (r == rows) {
              carry = e;
              break;
            }
            batch.add(new ArrayList<>());
          }
          batch.get(r).add(e);
          used[r] += e.length();
        }
        return build(batch, length, padId);
      }
    };
  }
}
