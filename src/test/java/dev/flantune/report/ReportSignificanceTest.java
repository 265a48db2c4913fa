package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A clear gain is marked significant in every rendering, a tie is not, on a report built by hand.
 */
class ReportSignificanceTest {
  /** One template over n examples: the first {@code right} correct. */
  static TemplateScore template(int index, int n, int right, int generativeRight) {
    double[] per = new double[n], gen = new double[n], opt = new double[n];
    for (int i = 0; i < n; i++) {
      per[i] = i < right ? 100 : 0;
      gen[i] = i < generativeRight ? 100 : 0;
      opt[i] = 100;
    }
    return new TemplateScore(
        index,
        n,
        0,
        100.0 * right / n,
        Double.NaN,
        Double.NaN,
        per,
        100.0 * generativeRight / n,
        100,
        gen,
        opt);
  }

  static EvalReport report(int tunedRight, int baseRight) {
    List<TaskResult> tasks = new ArrayList<>();
    for (String name : List.of("gain", "tie")) {
      int t = name.equals("gain") ? tunedRight : baseRight;
      ModelScores tuned = new ModelScores(List.of(template(0, 40, t, t), template(1, 40, t, 0)));
      ModelScores base =
          new ModelScores(List.of(template(0, 40, baseRight, 0), template(1, 40, baseRight, 0)));
      tasks.add(
          new TaskResult(
              name,
              "c",
              "classification",
              "accuracy",
              40,
              List.of(),
              Map.of(EvalReport.TUNED, tuned, EvalReport.BASE, base)));
    }
    EvalReport.Provenance p =
        new EvalReport.Provenance(
            "now", 5, 0, "validation", 40, "t", List.of("c"), List.of(), Map.of());
    return new EvalReport(
        List.of(EvalReport.TUNED, EvalReport.BASE),
        p,
        List.of(new ClusterResult("c", tasks)),
        Map.of());
  }

  @Test
  void aClearGainIsSignificantAndATieIsNot() throws Exception {
    EvalReport r = report(36, 12);
    JsonNode json = new ObjectMapper().readTree(ReportJson.render(r));
    JsonNode gain = json.get("clusters").get(0).get("tasks").get(0);
    JsonNode tie = json.get("clusters").get(0).get("tasks").get(1);
    assertEquals(60.0, gain.get("delta").get("mean").asDouble(), 1e-9);
    assertTrue(gain.get("delta").get("p").asDouble() < 0.01, gain.get("delta").toString());
    assertEquals(1.0, tie.get("delta").get("p").asDouble(), 0);
    // Per template: McNemar exact on 24 discordant pairs, all one way: 2 / 2^24.
    assertEquals(
        2 / Math.pow(2, 24), gain.get("delta").get("per_template_p").get(0).asDouble(), 1e-15);
    // Generative accuracy: template 0 gains 36 examples, template 1 none.
    assertEquals(45.0, gain.get("delta").get("generative_accuracy").get("mean").asDouble(), 1e-9);
    // The interval is Wilson's for one template, the bootstrap over examples for the task.
    JsonNode t0 = gain.get("tuned").get("per_template").get(0);
    Significance.Interval w = Significance.wilson(36, 40);
    assertEquals(w.low(), t0.get("ci95").get(0).asDouble(), 1e-12);
    JsonNode ci = gain.get("tuned").get("ci95");
    assertTrue(
        ci.get(0).asDouble() < 90 && 90 < ci.get(1).asDouble() && ci.get(1).asDouble() <= 100);

    String md = ReportMarkdown.render(r);
    String gainRow =
        md.lines()
            .filter(l -> l.startsWith("| c | gain |") && l.contains("["))
            .findFirst()
            .orElseThrow();
    String tieRow =
        md.lines()
            .filter(l -> l.startsWith("| c | tie |") && l.contains("["))
            .findFirst()
            .orElseThrow();
    assertTrue(gainRow.contains("+60.0 * | <0.001"), gainRow);
    assertTrue(tieRow.contains("+0.0 | 1.000"), tieRow);
    assertTrue(SummaryTable.render(r).contains("<0.001 *"), SummaryTable.render(r));
    assertTrue(ReportHtml.render(r, java.util.Optional.empty()).contains("+60.0 *"));
    assertFalse(Arrays.asList(md.split("\n")).isEmpty());
  }
}
