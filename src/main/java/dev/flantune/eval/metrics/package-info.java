/**
 * Generation metrics for held-out evaluation, each a port of the reference implementation that
 * published numbers are computed with, so flan-tune's scores can be compared with them:
 *
 * <ul>
 *   <li>{@link dev.flantune.eval.metrics.Squad}: exact match and F1 of the SQuAD v1.1 script;
 *   <li>{@link dev.flantune.eval.metrics.Bleu}: sacrebleu 2.x BLEU (13a tokenizer, exp smoothing);
 *   <li>{@link dev.flantune.eval.metrics.Rouge}: rouge-score's ROUGE-1/2/L without stemming.
 * </ul>
 *
 * <p>Those references are Python programs whose text handling (str.lower, str.split, regex \w) is
 * part of their definition; {@link dev.flantune.eval.metrics.PythonText} reproduces it. Every
 * metric is checked against values written by {@code scripts/reference/metrics_ref.py}.
 */
package dev.flantune.eval.metrics;
