package dev.flantune.data;

/**
 * One model batch of B rows × T positions, flattened row-major (index = b·T + t).
 *
 * <ul>
 *   <li>{@code inputIds}: token ids; padding positions hold any valid id.
 *   <li>{@code positionIds}: learned-position index of each token; restarts at 0 for each packed
 *       example.
 *   <li>{@code segmentIds}: 0 for padding, else the 1-based index of the example within its row.
 *       Attention runs only within a segment (block-diagonal causal), never across examples.
 *   <li>{@code labels}: the token to predict at each position (the next token of the same example);
 *       any valid id where {@code lossMask} is 0.
 *   <li>{@code lossMask}: 1 where the prediction counts in the loss (target and EOS tokens), else
 *       0.
 * </ul>
 */
public record Batch(
    int rows,
    int length,
    int[] inputIds,
    int[] positionIds,
    int[] segmentIds,
    int[] labels,
    float[] lossMask) {

  public Batch {
    int n = rows * length;
    if (inputIds.length != n
        || positionIds.length != n
        || segmentIds.length != n
        || labels.length != n
        || lossMask.length != n) {
      throw new IllegalArgumentException(
          "batch arrays must all have rows*length = " + n + " entries");
    }
  }

  /** The number of positions whose prediction counts in the loss. */
  public long targetTokens() {
    long n = 0;
    for (float m : lossMask) if (m != 0f) n++;
    return n;
  }

  /** The number of non-padding positions. */
  public long realTokens() {
    long n = 0;
    for (int s : segmentIds) if (s != 0) n++;
    return n;
  }
}
