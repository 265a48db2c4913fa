package dev.flantune.eval;

import dev.flantune.eval.metrics.Bleu;
import dev.flantune.eval.metrics.Rouge;
import dev.flantune.eval.metrics.Squad;
import dev.flantune.report.EvalReport.TemplateScore;
import dev.flantune.tasks.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * Accumulates one template's score over its examples, as a percentage. Accuracy, exact match, F1
 * and ROUGE-L are means of per-example scores; BLEU is corpus-level over the template's examples
 * (sacrebleu's corpus_bleu), so hypotheses and references are kept until the end: one string pair
 * per example, bounded by {@code --max-examples}.
 */
final class TemplateTally {
  private final int template;
  private final Task.Metric metric;
  private int n, skipped;
  private double sum, sumNormToken, sumNormChar;
  private final List<String> hypotheses = new ArrayList<>();
  private final List<List<String>> references = new ArrayList<>();

  TemplateTally(int template, Task.Metric metric) {
    this.template = template;
    this.metric = metric;
  }

  void skip() {
    skipped++;
  }

  /** A ranked example: whether the raw, per-token and per-character argmax are the answer. */
  void classified(boolean correct, boolean correctPerToken, boolean correctPerChar) {
    n++;
    sum += correct ? 1 : 0;
    sumNormToken += correctPerToken ? 1 : 0;
    sumNormChar += correctPerChar ? 1 : 0;
  }

  /**
   * A generated example; returns its own score (0–1) for the predictions file, or NaN for BLEU,
   * which is only meaningful over the corpus.
   */
  double generated(String prediction, String reference) {
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
    }
    return s;
  }

  TemplateScore score(boolean classification) {
    double score;
    if (n == 0) score = Double.NaN;
    else if (!classification && metric == Task.Metric.BLEU)
      score = Bleu.corpus(hypotheses, references).score();
    else score = 100.0 * sum / n;
    double normToken = classification && n > 0 ? 100.0 * sumNormToken / n : Double.NaN;
    double normChar = classification && n > 0 ? 100.0 * sumNormChar / n : Double.NaN;
    return new TemplateScore(template, n, skipped, score, normToken, normChar);
  }
}
