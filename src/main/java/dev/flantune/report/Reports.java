package dev.flantune.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The files of an evaluation's output directory, and writing all of them. */
public final class Reports {
  public static final String PREDICTIONS = "predictions.jsonl";
  public static final String JSON = "report.json";
  public static final String MARKDOWN = "report.md";
  public static final String HTML = "report.html";

  private Reports() {}

  /**
   * Writes report.json, report.md and report.html. {@code tunedDir} (may be null) is the tuned
   * checkpoint: when it is a run's {@code final/}, the run's loss curve goes into the HTML report.
   */
  public static void writeAll(EvalReport report, Path outDir, Path tunedDir) throws IOException {
    write(outDir.resolve(JSON), ReportJson.render(report));
    write(outDir.resolve(MARKDOWN), ReportMarkdown.render(report));
    write(outDir.resolve(HTML), ReportHtml.render(report, LossCurve.ofRun(tunedDir)));
  }

  /** Written beside and renamed into place, so a reader never sees half a report. */
  static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** A score for tables: one decimal, "–" when there is none. */
  static String pct(double v) {
    return Double.isNaN(v) ? "–" : String.format(java.util.Locale.ROOT, "%.1f", v);
  }

  /** A difference for tables, with its sign. */
  static String signed(double v) {
    return Double.isNaN(v) ? "–" : String.format(java.util.Locale.ROOT, "%+.1f", v);
  }
}
