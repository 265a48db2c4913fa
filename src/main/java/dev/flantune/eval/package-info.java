/**
 * Held-out evaluation: decoding ({@link dev.flantune.eval.Generator}, greedy or sampled over a
 * key/value cache) and, in {@code metrics}, the generation metrics. Depends on {@code model} and
 * {@code tokenizer}; knows nothing of the CLI.
 */
package dev.flantune.eval;
