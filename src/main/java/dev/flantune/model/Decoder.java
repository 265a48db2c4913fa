package dev.flantune.model;

/**
 * Incremental forward of one sequence with a key/value cache, what generation runs: the prompt in
 * one pass, then one position per new token.
 */
public interface Decoder {
  ModelConfig config();

  /** Positions already in the cache. */
  int length();

  /** Positions still free; {@link #append} takes at most this many tokens. */
  int remaining();

  /** Forgets the cached sequence. */
  void reset();

  /** Feeds tokens at the next positions and returns the logits [V] that follow the last one. */
  float[] append(int... tokens);

  /**
   * The decoder for this model's engine: the CPU engine's key/value cache, or {@link GraphDecoder}
   * on the graph engine.
   */
  static Decoder forModel(CausalLm model) {
    return model.engine() == Engine.CPU ? model.cpu().decoder() : new GraphDecoder(model);
  }

  /** Refuses an empty append, one past n_positions, or an id outside the vocabulary. */
  static void checkAppend(int[] tokens, int length, ModelConfig config) {
    if (tokens.length == 0) throw new IllegalArgumentException("no tokens to append");
    if (tokens.length > config.nPositions() - length) {
      throw new IllegalArgumentException(
          "cannot append "
              + tokens.length
              + " tokens: "
              + length
              + " of the context of "
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
