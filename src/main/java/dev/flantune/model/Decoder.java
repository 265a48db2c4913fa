package dev.flantune.model;

/**
 * Incremental forward of one sequence with a key/value cache, what generation runs: the prompt in
 * one pass, then one position per new token.
 */
public interface Decoder {
  Gpt2Config config();

  /** Positions already in the cache. */
  int length();

  /** Positions still free; {@link #append} takes at most this many tokens. */
  int remaining();

  /** Forgets the cached sequence. */
  void reset();

  /** Feeds tokens at the next positions and returns the logits [V] that follow the last one. */
  float[] append(int... tokens);

  /**
   * The decoder for this model: the direct engine's on CPU, {@link KvCacheDecoder} elsewhere (as
   * {@link GradientEngine#useDirect}).
   */
  static Decoder forModel(CausalLm model) {
    return GradientEngine.useDirect(model) ? model.direct().decoder() : new KvCacheDecoder(model);
  }

  /** Refuses an empty append, one past n_positions, or an id outside the vocabulary. */
  static void checkAppend(int[] tokens, int length, Gpt2Config config) {
    if (tokens.length == 0) throw new IllegalArgumentException("no tokens to append");
    if (tokens.length > config.nPositions() - length) {
      throw new IllegalArgumentException(
          "cannot append "
              + tokens.length
              + " tokens: "
              + length
              + " of n_positions "
              + config.nPositions()
              + " are used");
    }
    for (int id : tokens) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token id " + id + " outside the vocabulary of " + config.vocabSize());
      }
    }
  }
}
