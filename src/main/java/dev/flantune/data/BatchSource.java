package dev.flantune.data;

/**
 * An endless, deterministic stream of training micro-batches. Its position (micro-batches handed
 * out so far) is all a checkpoint needs to resume the exact same stream.
 */
public interface BatchSource {
  Batch next();

  /** Micro-batches handed out so far. */
  long position();

  /** Continues as if {@code position} micro-batches had been handed out. */
  void seek(long position);

  /** A fingerprint of the data behind this stream (for provenance). */
  String fingerprint();
}
