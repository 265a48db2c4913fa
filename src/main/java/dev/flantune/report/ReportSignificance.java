package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.Measure;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.Significance.Interval;
import dev.flantune.report.Significance.Test;
import java.util.List;
import java.util.Locale;

/**
 * The Markdown report's sections on uncertainty and on instruction following: each score with its
 * 95% interval, each base-vs-tuned Δ with its paired test's p-value (a Δ with p < 0.05 is marked
 * {@code *}), and generative accuracy and option rate beside rank classification.
 */
final class ReportSignificance {
  private ReportSignificance() {}

  static void append(StringBuilder sb, EvalReport r) {
    ReportStats stats = new ReportStats(r);
    sb.append("\n## Intervals and significance\n\n");
    sb.append(
        "95% intervals: bootstrap over examples (each example's templates resampled together;"
            + " clusters stratified by task), "
            + Significance.RESAMPLES
            + " resamples.");
    if (r.compared())
      sb.append(
          " p: paired bootstrap over the same examples; `*` marks Δ with p < 0.05."
              + " Per-template tests (McNemar exact for accuracy) are in report.json.");
    sb.append("\n\n");
    table(sb, r, stats, Measure.SCORE);
    boolean generated =
        r.clusters().stream().anyMatch(c -> ReportStats.measuredIn(c, Measure.GENERATIVE));
    if (!generated) return;
    sb.append("\n## Instruction following (classification answered by greedy generation)\n\n");
    sb.append(
        "Generative accuracy: the greedy answer, stripped, lower-cased and without trailing"
            + " punctuation, equals the right option's target. Option rate: it equals one of the"
            + " options' targets at all.\n\n");
    sb.append("### Generative accuracy\n\n");
    table(sb, r, stats, Measure.GENERATIVE);
    sb.append("\n### Option rate\n\n");
    table(sb, r, stats, Measure.OPTION_RATE);
  }

  private static void table(StringBuilder sb, EvalReport r, ReportStats stats, Measure m) {
    sb.append("| cluster | task |")
        .append(r.compared() ? " base [95% CI] |" : "")
        .append(" tuned [95% CI] |")
        .append(r.compared() ? " Δ | p |" : "")
        .append('\n');
    sb.append("|---|---|")
        .append(r.compared() ? "---:|" : "")
        .append("---:|")
        .append(r.compared() ? "---:|---:|" : "")
        .append('\n');
    for (ClusterResult c : r.clusters()) {
      for (TaskResult t : c.tasks()) {
        if (m != Measure.SCORE && !ReportStats.measured(t, EvalReport.TUNED, m)) continue;
        sb.append("| ").append(c.name()).append(" | ").append(t.task()).append(" |");
        for (String model : baseFirst(r)) {
          double mean = t.scores(model).perTemplateMean(m);
          sb.append(' ').append(withInterval(mean, stats.task(t, model, m))).append(" |");
        }
        if (r.compared()) {
          double delta =
              t.scores(EvalReport.TUNED).perTemplateMean(m)
                  - t.scores(EvalReport.BASE).perTemplateMean(m);
          sb.append(' ').append(marked(delta, stats.task(t, m))).append(" |");
        }
        sb.append('\n');
      }
      if (m != Measure.SCORE && !ReportStats.measuredIn(c, m)) continue;
      sb.append("| **").append(c.name()).append("** | *cluster mean* |");
      for (String model : baseFirst(r)) {
        double mean = ReportStats.clusterMean(c, model, m);
        sb.append(" **").append(withInterval(mean, stats.cluster(c, model, m))).append("** |");
      }
      if (r.compared()) {
        double delta =
            ReportStats.clusterMean(c, EvalReport.TUNED, m)
                - ReportStats.clusterMean(c, EvalReport.BASE, m);
        // Each cell bold on its own; the significance mark stays outside the bold ("**+3.0** *"):
        // a closing "**" right after " *" would not close in Markdown.
        Test t = stats.cluster(c, m);
        sb.append(" **").append(Reports.signed(delta)).append("**");
        sb.append(t.significant() ? " *" : "").append(" | **").append(p(t.p())).append("** |");
      }
      sb.append('\n');
    }
  }

  /** "42.0 [35.1, 49.0]", or the score alone without an interval. */
  static String withInterval(double mean, Interval i) {
    String s = Reports.pct(mean);
    if (!i.exists()) return s;
    return s + " [" + Reports.pct(i.low()) + ", " + Reports.pct(i.high()) + "]";
  }

  /** "+3.0 * | 0.012" for the Δ and p columns. */
  static String marked(double delta, Test t) {
    return Reports.signed(delta) + (t.significant() ? " *" : "") + " | " + p(t.p());
  }

  static String p(double p) {
    if (Double.isNaN(p)) return "–";
    return p < 0.001 ? "<0.001" : String.format(Locale.ROOT, "%.3f", p);
  }

  /** Base before tuned, as the summary table's columns. */
  private static List<String> baseFirst(EvalReport r) {
    return r.compared() ? List.of(EvalReport.BASE, EvalReport.TUNED) : List.of(EvalReport.TUNED);
  }
}
