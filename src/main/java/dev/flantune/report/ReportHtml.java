package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import java.util.Base64;
import java.util.Optional;

/**
 * {@code report.html}: one self-contained file (inline CSS, plots as base64 PNG) that can be mailed
 * or attached to a CI run: the summary table, the cluster bars, per-cluster template spread, the
 * training loss curve when the model came from a run, and the Markdown report's tables.
 */
public final class ReportHtml {
  private ReportHtml() {}

  private static final String STYLE =
      "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;color:#222}"
          + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
          + "td:first-child,th:first-child{text-align:left}pre{background:#f6f6f6;padding:1em;overflow-x:auto}"
          + "img{max-width:100%}";

  public static String render(EvalReport r, Optional<LossCurve> loss) {
    StringBuilder sb = new StringBuilder();
    sb.append(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>flan-tune held-out evaluation</title>")
        .append("<style>")
        .append(STYLE)
        .append("</style></head><body>\n");
    sb.append("<h1>Held-out evaluation: ")
        .append(esc(String.join(", ", r.provenance().heldOut())))
        .append("</h1>\n");
    sb.append("<pre>").append(esc(SummaryTable.render(r))).append("</pre>\n");
    sb.append("<h2>Clusters</h2>\n").append(img(Plots.clusterBars(r), "cluster means"));
    sb.append("<h2>Spread across templates</h2>\n");
    for (ClusterResult c : r.clusters())
      sb.append(img(Plots.templateSpread(r, c), "template spread of " + c.name()));
    if (loss.isPresent())
      sb.append("<h2>Training</h2>\n").append(img(Plots.lossCurve(loss.get()), "training loss"));
    // The Markdown report holds every table; shown as text so the HTML needs no Markdown renderer.
    sb.append("<h2>Details</h2>\n<pre>").append(esc(ReportMarkdown.render(r))).append("</pre>\n");
    sb.append("</body></html>\n");
    return sb.toString();
  }

  private static String img(byte[] png, String alt) {
    return "<p><img alt=\""
        + esc(alt)
        + "\" src=\"data:image/png;base64,"
        + Base64.getEncoder().encodeToString(png)
        + "\"></p>\n";
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
