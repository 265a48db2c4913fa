package dev.flantune.eval;

import dev.flantune.model.CausalLm;
import java.nio.file.Path;

/**
 * A model to evaluate, with what the report records about it. The trainer passes its in-memory
 * final model with the {@code final/} directory it just wrote; the CLI passes a loaded checkpoint.
 *
 * @param dir the checkpoint directory (null for a model that exists only in memory)
 * @param sha256 fingerprint of {@code dir} (the caller computes it, e.g. {@code
 *     Provenance.sha256Tree})
 */
public record EvaluatedModel(CausalLm lm, Path dir, String sha256) {}
