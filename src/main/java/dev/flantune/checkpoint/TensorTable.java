package dev.flantune.checkpoint;

import java.util.Map;

/**
 * The tensors a checkpoint must hold, handed in by the model that reads it, so that this package
 * validates files without knowing any model family.
 */
public interface TensorTable {
  /** Every expected tensor name with its shape, in the order checkpoints are written. */
  Map<String, long[]> shapes();

  /**
   * A stored tensor's name in this table, or null for a stored tensor that is not a parameter and
   * is skipped (buffers some files carry).
   */
  String canonical(String stored);

  /** Names the model in error messages, e.g. "a GPT-2 with n_layer=2". */
  String description();
}
