package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.TaskResult;
import java.util.ArrayList;
import java.util.List;

/** The terminal summary: one row per task and per cluster, base and tuned side by side. */
public final class SummaryTable {
  private SummaryTable() {}

  public static String render(EvalReport r) {
    List<String[]> rows = new ArrayList<>();
    List<String> head = new ArrayList<>(List.of("cluster", "task", "metric", "templates"));
    if (r.compared()) head.add("base");
    head.add("tuned");
    head.add("tuned std");
    head.add("tuned min–max");
    if (r.compared()) head.add("Δ");
    head.add("tuned 95% CI");
    if (r.compared()) head.add("p");
    ReportStats stats = new ReportStats(r);
    rows.add(head.toArray(String[]::new));
    for (ClusterResult c : r.clusters()) {
      for (TaskResult t : c.tasks()) {
        Spread tuned = t.scores(EvalReport.TUNED).spread();
        List<String> row =
            new ArrayList<>(List.of(c.name(), t.task(), t.metric(), String.valueOf(tuned.count())));
        if (r.compared()) row.add(Reports.pct(t.scores(EvalReport.BASE).spread().mean()));
        row.add(Reports.pct(tuned.mean()));
        row.add(Reports.pct(tuned.std()));
        row.add(Reports.pct(tuned.min()) + "–" + Reports.pct(tuned.max()));
        if (r.compared()) row.add(Reports.signed(t.delta().mean()));
        row.add(ci(stats.task(t, EvalReport.TUNED, EvalReport.Measure.SCORE)));
        if (r.compared()) row.add(pMarked(stats.task(t, EvalReport.Measure.SCORE)));
        rows.add(row.toArray(String[]::new));
      }
      List<String> row = new ArrayList<>(List.of(c.name(), "(cluster mean)", "", ""));
      if (r.compared()) row.add(Reports.pct(c.mean(EvalReport.BASE)));
      row.add(Reports.pct(c.mean(EvalReport.TUNED)));
      row.add("");
      row.add("");
      if (r.compared()) row.add(Reports.signed(c.mean(EvalReport.TUNED) - c.mean(EvalReport.BASE)));
      row.add(ci(stats.cluster(c, EvalReport.TUNED, EvalReport.Measure.SCORE)));
      if (r.compared()) row.add(pMarked(stats.cluster(c, EvalReport.Measure.SCORE)));
      rows.add(row.toArray(String[]::new));
    }
    return table(rows) + ContaminationTables.terminal(r);
  }

  private static String ci(Significance.Interval i) {
    return i.exists() ? Reports.pct(i.low()) + "–" + Reports.pct(i.high()) : "–";
  }

  /** The p-value, with {@code *} when below 0.05. */
  private static String pMarked(Significance.Test t) {
    return ReportSignificance.p(t.p()) + (t.significant() ? " *" : "");
  }

  static String table(List<String[]> rows) {
    int[] width = new int[rows.get(0).length];
    for (String[] row : rows)
      for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
    StringBuilder sb = new StringBuilder();
    for (int r = 0; r < rows.size(); r++) {
      String[] row = rows.get(r);
      for (int i = 0; i < row.length; i++) {
        // Text columns left-aligned, numbers right-aligned.
        String cell = i < 3 ? pad(row[i], width[i], false) : pad(row[i], width[i], true);
        sb.append(i == 0 ? "" : "  ").append(cell);
      }
      sb.append('\n');
      if (r == 0) {
        for (int i = 0; i < width.length; i++)
          sb.append(i == 0 ? "" : "  ").append("-".repeat(width[i]));
        sb.append('\n');
      }
    }
    return sb.toString();
  }

  private static String pad(String s, int w, boolean right) {
    String fill = " ".repeat(Math.max(0, w - s.length()));
    return right ? fill + s : s + fill;
  }
}
