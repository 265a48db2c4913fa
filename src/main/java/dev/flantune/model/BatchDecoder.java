package dev.flantune.model;

import dev.flantune.model.cpu.CpuBatchDecoder;

/**
 * Many sequences decoded together, what batched generation runs. Each sequence is a row: a {@link
 * Decoder} of its own (its own cache, length and positions). {@link #append} feeds any tokens to
 * each of any set of rows at once (the prompts of the rows joining a batch), {@link #step} one
 * token to each, so the rows' products share one pass over the weights. Rows join and leave between
 * steps: a finished row simply stops being passed.
 */
public interface BatchDecoder {
  ModelConfig config();

  /** A new, empty row. */
  Decoder open();

  /**
   * Appends {@code tokens[i]} to {@code rows[i]} (rows opened by this decoder, each with room for
   * one more position) and returns each row's next-token logits [V]. The arrays are the decoder's
   * and are overwritten by the next step.
   */
  float[][] step(Decoder[] rows, int[] tokens);

  /**
   * Appends {@code tokens[i]} (one or more tokens) to {@code rows[i]} (distinct rows opened by this
   * decoder) and returns each row's logits [V] after its last token, e.g. every prompt of a batch
   * prefilled at once. The arrays are the decoder's and are overwritten by the next call.
   */
  default float[][] append(Decoder[] rows, int[][] tokens) {
    if (tokens.length != rows.length)
      throw new IllegalArgumentException(rows.length + " rows, " + tokens.length);
    float[][] out = new float[rows.length][];
    for (int i = 0; i < rows.length; i++) out[i] = rows[i].append(tokens[i]);
    return out;
  }

  /**
   * The CPU engine's batched key/value-cache decoder, or, on the graph engine, rows of {@link
   * GraphDecoder} stepped one after another.
   */
  static BatchDecoder forModel(CausalLm model) {
    return model.engine() == Engine.CPU ? new CpuBatchDecoder(model.cpu()) : new OneAtATime(model);
  }

  /** Rows stepped one at a time: the graph engine's fallback. */
  final class OneAtATime implements BatchDecoder {
    private final CausalLm model;

    OneAtATime(CausalLm model) {
      this.model = model;
    }

    @Override
    public ModelConfig config() {
      return model.config();
    }

    @Override
    public Decoder open() {
      return new GraphDecoder(model);
    }

    @Override
    public float[][] step(Decoder[] rows, int[] tokens) {
      float[][] out = new float[rows.length][];
      for (int i = 0; i < rows.length; i++) out[i] = rows[i].append(tokens[i]);
      return out;
    }
  }
}
