package dev.flantune.data;

/**
 * One example as token ids: {@code [bos]? ++ ids(prompt) ++ ids(target) ++ [eos]}, with a loss mask
 * aligned to the ids (1 iff {@code ids[i]} is a target or EOS token; see package docs for the batch
 * alignment).
 *
 * @param promptTokens how many leading ids are BOS and prompt (after truncation)
 * @param droppedPromptTokens prompt tokens cut from the start to fit the maximum length (0 if none)
 */
public record TokenizedExample(
    int[] ids, byte[] lossMask, int promptTokens, int droppedPromptTokens) {

  public TokenizedExample {
    if (ids.length != lossMask.length)
      throw new IllegalArgumentException("ids and loss mask differ in length");
  }

  public int length() {
    return ids.length;
  }

  /** Target tokens plus the EOS: the positions that carry loss. */
  public int targetTokens() {
    int n = 0;
    for (byte m : lossMask) n += m;
    return n;
  }

  public boolean truncated() {
    return droppedPromptTokens > 0;
  }
}
