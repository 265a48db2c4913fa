package dev.flantune.data;

/**
 * Counts of what tokenization cut or skipped, so truncation is reported and never silent. Not
 * thread-safe: one per tokenizing loop.
 */
public final class Truncation {
  private long examples;
  private long truncated;
  private long droppedTokens;
  private long skipped;

  void seen(TokenizedExample e) {
    examples++;
    if (e.truncated()) {
      truncated++;
      droppedTokens += e.droppedPromptTokens();
    }
  }

  void skip() {
    examples++;
    skipped++;
  }

  /** Examples tokenized (kept or skipped). */
  public long examples() {
    return examples;
  }

  /** Examples whose prompt lost its start to fit the maximum length. */
  public long truncated() {
    return truncated;
  }

  public long droppedTokens() {
    return droppedTokens;
  }

  /** Examples left out because the target and EOS alone do not fit. */
  public long skipped() {
    return skipped;
  }

  /**
   * One line for logs, e.g. "1000 examples: 12 truncated (340 prompt tokens dropped), 1 skipped".
   */
  public String summary() {
    return examples
        + " examples: "
        + truncated
        + " truncated ("
        + droppedTokens
        + " prompt tokens dropped), "
        + skipped
        + " skipped (target longer than the maximum length)";
  }
}
