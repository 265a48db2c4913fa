package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * report.md's tables render as written: every bold marker opens and closes inside its own cell, so
 * no cell shows stray asterisks (the cluster-mean rows once wrapped the Δ and p cells in one bold).
 */
class ReportMarkdownTest {
  /**
   * A bold span as Markdown reads it: "**", text that neither starts nor ends with a space, "**".
   */
  private static final Pattern BOLD = Pattern.compile("\\*\\*(?=[^*\\s])[^*]*?(?<=[^*\\s])\\*\\*");

  /** The cells of a table row "| a | b |" (none of this report's cells holds a pipe). */
  static List<String> cells(String row) {
    String inner = row.strip();
    inner = inner.substring(1, inner.endsWith("|") ? inner.length() - 1 : inner.length());
    List<String> out = new ArrayList<>();
    for (String c : inner.split("\\|", -1)) out.add(c.strip());
    return out;
  }

  /** Fails naming the row and cell where a "**" does not open and close within one cell. */
  static void assertBoldClosesInEveryCell(String markdown) {
    int rows = 0;
    for (String line : markdown.lines().toList()) {
      if (!line.startsWith("|")) continue;
      rows++;
      for (String cell : cells(line)) {
        String rest = BOLD.matcher(cell).replaceAll("");
        assertFalse(rest.contains("**"), "unbalanced bold in cell [" + cell + "] of " + line);
      }
    }
    assertTrue(rows > 0, "no table in the report");
  }

  @Test
  void everyBoldCellOfEveryTableClosesInItself() {
    EvalReport significant = ReportSignificanceTest.report(36, 12);
    String md = ReportMarkdown.render(significant);
    assertBoldClosesInEveryCell(md);
    EvalReport tunedOnly =
        new EvalReport(
            List.of(EvalReport.TUNED),
            significant.provenance(),
            significant.clusters(),
            java.util.Map.of());
    assertBoldClosesInEveryCell(ReportMarkdown.render(tunedOnly));

    // The significance tables' cluster rows: Δ and p in bold cells of their own, the mark outside.
    List<String> clusterRows =
        md.lines()
            .filter(l -> l.startsWith("| **c** | *cluster mean* |") && l.contains("["))
            .toList();
    assertEquals(3, clusterRows.size(), md); // score, generative accuracy, option rate
    List<String> score = cells(clusterRows.get(0));
    assertEquals("**+30.0** *", score.get(score.size() - 2), clusterRows.get(0));
    assertEquals("**<0.001**", score.get(score.size() - 1), clusterRows.get(0));
  }

  @Test
  void theCheckCatchesABoldSpanningTwoCells() {
    String broken = "| **c** | *cluster mean* | **+42.0 * | <0.001** |\n";
    org.junit.jupiter.api.Assertions.assertThrows(
        AssertionError.class, () -> assertBoldClosesInEveryCell(broken));
    org.junit.jupiter.api.Assertions.assertThrows(
        AssertionError.class, () -> assertBoldClosesInEveryCell("| **+42.0 *** |\n"));
    assertBoldClosesInEveryCell("| **+42.0** * | **<0.001** | *italic* |\n");
  }
}
