package dev.flantune.eval;

import dev.flantune.eval.metrics.Bleu;
import dev.flantune.eval.metrics.Rouge;
import dev.flantune.eval.metrics.Squad;
import dev.flantune.report.EvalReport.TemplateScore;
import dev.flantune.tasks.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Accumulates one template's score over its examples, as a percentage. Accuracy, exact match, F1
 * and ROUGE-L are means of per-example scores; BLEU is corpus-level over the template's examples
 * (sacrebleu's corpus_bleu), so hypotheses and references are kept until the end: one string pair
 * per example, bounded by {@code --max-examples}. Per-example scores are kept (one double per
 * example) for the report's intervals and paired tests.
 */
final class TemplateTally {
  private final int template;
  private final Task.Metric metric;
  private int n, skipped;
  private double sum, sumNormToken, sumNormChar;
  private final List<String> hypotheses = new ArrayList<>();
  private final List<List<String>> references = new ArrayList<>();
  private final double[] perExample;
  private double[] generative = new double[0], option = new double[0];
  private int generated, generativeRight, optionHits;

  /** {@code examples}: how many examples this template is evaluated on. */
  TemplateTally(int template, Task.Metric metric, int examples) {
    this.template = template;
    this.metric = metric;
    this.perExample = new double[examples];
    Arrays.fill(perExample, Double.NaN);
  }

  void skip() {
    skipped++;
  }

  /**
   * A ranked example {@code i}: whether the raw, per-token and per-character argmax are the answer.
   */
  void classified(int i, boolean correct, boolean correctPerToken, boolean correctPerChar) {
    perExample[i] = correct ? 100 : 0;
    n++;
    sum += correct ? 1 : 0;
    sumNormToken += correctPerToken ? 1 : 0;
    sumNormChar += correctPerChar ? 1 : 0;
  }

  /**
   * A generated example; returns its own score (0–1) for the predictions file, or NaN for BLEU,
   * which is only meaningful over the corpus.
   */
  double generated(int i, String prediction, String reference) {
    n++;
    List<String> refs = List.of(reference);
    double s =
        switch (metric) {
          case EXACT_MATCH -> Squad.exactMatch(prediction, refs);
          case F1 -> Squad.f1(prediction, refs);
          case ROUGE_L -> Rouge.score(prediction, refs).rougeL().fmeasure();
          case BLEU -> Double.NaN;
          // A generation task declared with accuracy: exact string equality after stripping.
          case ACCURACY -> prediction.strip().equals(reference.strip()) ? 1 : 0;
        };
    if (metric == Task.Metric.BLEU) {
      hypotheses.add(prediction);
      references.add(refs);
    } else {
      sum += s;
      perExample[i] = 100 * s;
    }
    return s;
  }

  /**
   * A classification example {@code i} answered by generation: whether the normalized answer equals
   * the answer's target, and whether it is one of the options' targets.
   */
  void answered(int i, boolean right, boolean anOption) {
    if (generative.length == 0) {
      generative = new double[perExample.length];
      option = new double[perExample.length];
      Arrays.fill(generative, Double.NaN);
      Arrays.fill(option, Double.NaN);
    }
    generated++;
    generativeRight += right ? 1 : 0;
    optionHits += anOption ? 1 : 0;
    generative[i] = right ? 100 : 0;
    option[i] = anOption ? 100 : 0;
  }

  TemplateScore score(boolean classification) {
    double score;
    if (n == 0) score = Double.NaN;
    else if (!classification && metric == Task.Metric.BLEU)
      score = Bleu.corpus(hypotheses, references).score();
    else score = 100.0 * sum / n;
    double normToken = classification && n > 0 ? 100.0 * sumNormToken / n : Double.NaN;
    double normChar = classification && n > 0 ? 100.0 * sumNormChar / n : Double.NaN;
    double gen = generated > 0 ? 100.0 * generativeRight / generated : Double.NaN;
    double rate = generated > 0 ? 100.0 * optionHits / generated : Double.NaN;
    return new TemplateScore(
        template,
        n,
        skipped,
        score,
        normToken,
        normChar,
        perExample,
        gen,
        rate,
        generative,
        option);
  }
}
