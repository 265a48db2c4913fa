package dev.flantune.util;

import java.util.stream.IntStream;

/**
 * Splits a loop over [0, n) into one contiguous chunk per core. Callers keep results independent of
 * the split (each index writes only its own outputs, or reductions go through fixed-size blocks),
 * so results are identical whatever the core count.
 */
public final class Parallel {
  private static final int CORES = Runtime.getRuntime().availableProcessors();

  /**
   * Work (≈ ns) below which a loop runs on the calling thread: handing a chunk to another thread
   * costs tens of µs.
   */
  private static final long SPLIT_COST = 50_000;

  public interface Range {
    void run(int from, int to);
  }

  private Parallel() {}

  /** Runs {@code body} over [0, n); inline when {@code n · costPerItem} is too small to split. */
  public static void range(int n, long costPerItem, Range body) {
    int chunks = (int) Math.min(CORES, Math.max(1, n * costPerItem / SPLIT_COST));
    if (chunks <= 1) {
      body.run(0, n);
      return;
    }
    IntStream.range(0, chunks)
        .parallel()
        .forEach(c -> body.run((int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
  }
}
