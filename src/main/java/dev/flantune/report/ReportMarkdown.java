package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.util.List;

/** {@code report.md}: the summary, then per task a per-template table, then the provenance. */
public final class ReportMarkdown {
  private ReportMarkdown() {}

  public static String render(EvalReport r) {
    StringBuilder sb = new StringBuilder();
    EvalReport.Provenance p = r.provenance();
    sb.append("# Held-out evaluation: ").append(String.join(", ", p.heldOut())).append("\n\n");
    sb.append(p.shots() == 0 ? "Zero-shot" : p.shots() + "-shot")
        .append(", split `")
        .append(p.split())
        .append("`, up to ")
        .append(p.maxExamples())
        .append(" examples per task (the same for every template), seed ")
        .append(p.seed())
        .append(". Scores are percentages; a task's score is the mean over its templates. ")
        .append(ContaminationTables.renderingSentence(r))
        .append("\n\n");
    sb.append("## Summary\n\n");
    summary(sb, r);
    ReportSignificance.append(sb, r);
    for (ClusterResult c : r.clusters()) {
      sb.append("\n## Cluster `").append(c.name()).append("`\n");
      for (TaskResult t : c.tasks()) task(sb, r, t);
    }
    ContaminationTables.markdown(r, sb);
    sb.append("\n## Provenance\n\n");
    sb.append("- date: ").append(p.date()).append('\n');
    sb.append("- tasks: `").append(p.tasks()).append("`\n");
    for (EvalReport.ModelRef m : p.models()) {
      sb.append("- ")
          .append(m.role())
          .append(" model: `")
          .append(m.path())
          .append("` (sha256 `")
          .append(m.sha256())
          .append("`)\n");
    }
    p.environment()
        .forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
    r.throughput()
        .forEach(
            (role, t) ->
                sb.append("- ")
                    .append(role)
                    .append(": ")
                    .append(t.evaluations())
                    .append(" evaluations in ")
                    .append(
                        String.format(
                            java.util.Locale.ROOT, "%.1f s (%.1f/s)", t.seconds(), t.perSecond()))
                    .append('\n'));
    return sb.toString();
  }

  private static void summary(StringBuilder sb, EvalReport r) {
    sb.append("| cluster | task | metric | templates |")
        .append(r.compared() ? " base |" : "")
        .append(" tuned (mean ± std, min–max) |")
        .append(r.compared() ? " Δ |" : "")
        .append('\n');
    sb.append("|---|---|---|---:|")
        .append(r.compared() ? "---:|" : "")
        .append("---:|")
        .append(r.compared() ? "---:|" : "")
        .append('\n');
    for (ClusterResult c : r.clusters()) {
      for (TaskResult t : c.tasks()) {
        Spread s = t.scores(EvalReport.TUNED).spread();
        sb.append("| ")
            .append(c.name())
            .append(" | ")
            .append(t.task())
            .append(" | ")
            .append(t.metric())
            .append(" | ")
            .append(s.count())
            .append(" |");
        if (r.compared())
          sb.append(' ').append(spread(t.scores(EvalReport.BASE).spread())).append(" |");
        sb.append(' ').append(spread(s)).append(" |");
        if (r.compared()) sb.append(' ').append(Reports.signed(t.delta().mean())).append(" |");
        sb.append('\n');
      }
      sb.append("| **").append(c.name()).append("** | *cluster mean* | | |");
      if (r.compared())
        sb.append(" **").append(Reports.pct(c.mean(EvalReport.BASE))).append("** |");
      sb.append(" **").append(Reports.pct(c.mean(EvalReport.TUNED))).append("** |");
      if (r.compared())
        sb.append(" **")
            .append(Reports.signed(c.mean(EvalReport.TUNED) - c.mean(EvalReport.BASE)))
            .append("** |");
      sb.append('\n');
    }
  }

  static String spread(Spread s) {
    return Reports.pct(s.mean())
        + " ± "
        + Reports.pct(s.std())
        + " ("
        + Reports.pct(s.min())
        + "–"
        + Reports.pct(s.max())
        + ")";
  }

  private static void task(StringBuilder sb, EvalReport r, TaskResult t) {
    boolean cls = t.kind().equals("classification");
    sb.append("\n### ")
        .append(t.task())
        .append(" (")
        .append(t.kind())
        .append(", ")
        .append(t.metric())
        .append(", ")
        .append(t.nExamples())
        .append(" examples)\n\n");
    sb.append("| template |");
    for (String m : r.models()) {
      sb.append(' ').append(m).append(" |");
      if (cls)
        sb.append(' ')
            .append(m)
            .append(" acc_norm tok |")
            .append(' ')
            .append(m)
            .append(" acc_norm char |");
    }
    if (r.compared()) sb.append(" Δ |");
    sb.append("\n|---:|")
        .append("---:|".repeat(r.models().size() * (cls ? 3 : 1) + (r.compared() ? 1 : 0)))
        .append('\n');
    List<TemplateScore> tuned = t.scores(EvalReport.TUNED).templates();
    List<Double> deltas = r.compared() ? t.deltas() : null;
    for (int i = 0; i < tuned.size(); i++) {
      sb.append("| ").append(tuned.get(i).template()).append(" |");
      for (String m : r.models()) {
        TemplateScore s = t.scores(m).templates().get(i);
        sb.append(' ').append(Reports.pct(s.score())).append(" |");
        if (cls)
          sb.append(' ')
              .append(Reports.pct(s.accNormToken()))
              .append(" | ")
              .append(Reports.pct(s.accNormChar()))
              .append(" |");
      }
      if (deltas != null) sb.append(' ').append(Reports.signed(deltas.get(i))).append(" |");
      sb.append('\n');
    }
    for (EvalReport.SkippedTemplate s : t.skipped()) {
      sb.append("\nTemplate ")
          .append(s.template())
          .append(" not evaluated: ")
          .append(s.reason())
          .append(".\n");
    }
    int skippedExamples = tuned.stream().mapToInt(TemplateScore::skipped).sum();
    if (skippedExamples > 0) {
      sb.append("\n")
          .append(skippedExamples)
          .append(
              " example evaluations skipped: an option's target and EOS do not fit the context.\n");
    }
  }
}
