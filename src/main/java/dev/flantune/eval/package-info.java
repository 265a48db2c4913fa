/**
 * Held-out evaluation (FLAN protocol): {@link dev.flantune.eval.HeldOutEval} runs every template of
 * every task in the held-out clusters on the same examples, ranking options for classification
 * ({@code RankClassifier}: Σ ln P(target + EOS | prompt), tokenized as in training) and decoding
 * greedily for generation ({@link dev.flantune.eval.Generator} over a key/value cache, then the
 * metrics in {@code metrics}). Predictions stream to {@code predictions.jsonl}; the report is built
 * and rendered by {@code dev.flantune.report}. Depends on {@code model}, {@code data}, {@code
 * tasks}, {@code report} and {@code tokenizer}; knows nothing of the CLI.
 */
package dev.flantune.eval;
