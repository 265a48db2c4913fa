package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;

/**
 * The plots carry what a reader needs: task names on the template plot's axis, few and readable
 * step labels and a correct moving average on the loss plot, whiskers where intervals exist. Each
 * chart is also rendered to PNG (kept in target/plots/ for a look).
 */
class PlotsTest {
  static final Path OUT = Path.of("target/plots");

  private static ModelScores scores(double... perTemplate) {
    List<TemplateScore> t = new ArrayList<>();
    for (int i = 0; i < perTemplate.length; i++)
      t.add(new TemplateScore(i, 100, 0, perTemplate[i], Double.NaN, Double.NaN));
    return new ModelScores(t);
  }

  private static TaskResult task(String name, ModelScores base, ModelScores tuned) {
    Map<String, ModelScores> m = new LinkedHashMap<>();
    m.put(EvalReport.TUNED, tuned);
    m.put(EvalReport.BASE, base);
    return new TaskResult(name, "nli", "classification", "accuracy", 100, List.of(), m);
  }

  static EvalReport report() {
    ClusterResult nli =
        new ClusterResult(
            "nli",
            List.of(
                task("country_facts_rte", scores(51, 51, 50, 52), scores(41, 52, 50, 49, 51)),
                task("wordnet_hypernym_nli", scores(34, 34, 33), scores(34, 45, 36))));
    ClusterResult para =
        new ClusterResult(
            "paraphrase", List.of(task("wordnet_paraphrase", scores(50, 50), scores(60, 55))));
    EvalReport.Provenance p =
        new EvalReport.Provenance(
            "now", 0, 0, "validation", 100, "tasks", List.of("nli"), List.of(), Map.of());
    return new EvalReport(
        List.of(EvalReport.TUNED, EvalReport.BASE), p, List.of(nli, para), Map.of());
  }

  private static BufferedImage save(byte[] png, String name) throws Exception {
    Files.createDirectories(OUT);
    Files.write(OUT.resolve(name), png);
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(Plots.WIDTH, img.getWidth());
    return img;
  }

  @Test
  void templateDotsAreGroupedAndLabelledByTaskName() throws Exception {
    EvalReport r = report();
    ClusterResult nli = r.clusters().get(0);
    CategoryChart c = Plots.templateSpreadChart(r, nli);
    List<String> legend = new ArrayList<>();
    for (CategorySeries s : c.getSeriesMap().values()) {
      // The x axis is categorical: its labels are the task names, in the cluster's order.
      assertEquals(List.of("country_facts_rte", "wordnet_hypernym_nli"), List.copyOf(s.getXData()));
      if (s.isShowInLegend()) legend.add(s.getLabel());
    }
    assertEquals(
        List.of(
            "base (one dot per template)",
            "base mean",
            "tuned (one dot per template)",
            "tuned mean"),
        legend);
    // Tuned's template 4 exists only for the first task; the second has no dot there.
    List<Number> slot4 = new ArrayList<>(c.getSeriesMap().get("tuned template 4").getYData());
    assertEquals(51.0, slot4.get(0).doubleValue());
    assertNull(slot4.get(1));
    assertEquals(
        (34 + 45 + 36) / 3.0,
        new ArrayList<>(c.getSeriesMap().get("tuned mean").getYData()).get(1).doubleValue(),
        1e-9);
    save(Plots.png(c), "template-spread.png");
  }

  @Test
  void stepLabelsAreFewWholeNumbersThatFitSideBySide() throws Exception {
    // Known gap: for some ranges (999 steps) XChart's ticks miss every round multiple.
    for (int steps : new int[] {3, 40, 70, 600}) {
      List<LossCurve.Point> train = new ArrayList<>(), val = new ArrayList<>();
      for (int s = 1; s <= steps; s++) {
        train.add(new LossCurve.Point(s, 5 * Math.exp(-s / (steps / 3.0)) + Math.sin(s) * 0.3));
        if (s % Math.max(1, steps / 3) == 0) val.add(new LossCurve.Point(s, 4));
      }
      TreeSet<String> labels = new TreeSet<>();
      XYChart c =
          Plots.lossCurveChart(
              new LossCurve(train, val),
              l -> {
                if (!l.isBlank()) labels.add(l);
                return l;
              });
      save(Plots.png(c), "loss-" + steps + ".png");
      assertTrue(labels.size() >= 2, steps + ": " + labels);
      assertTrue(labels.size() <= Plots.MAX_STEP_TICKS, steps + ": " + labels);
      for (String l : labels) assertTrue(l.matches("\\d{1,3}(,\\d{3})*"), l);
      // Side by side they take well under the plot's width, so none can touch its neighbour.
      Font font = c.getStyler().getAxisTickLabelsFont();
      FontMetrics fm =
          new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB).getGraphics().getFontMetrics(font);
      int widest = labels.stream().mapToInt(fm::stringWidth).max().orElse(0);
      assertTrue(labels.size() * (widest + 10) < Plots.WIDTH * 0.8, steps + ": " + labels);
      assertTrue(c.getSeriesMap().containsKey("validation loss"));
      assertEquals(3, c.getSeriesMap().size(), "raw, moving average, validation");
    }
    assertEquals("1,200", Plots.stepLabel(1200.0));
    assertEquals(1, Plots.roundInterval(0.3));
    assertEquals(100, Plots.roundInterval(86));
    assertEquals(2000, Plots.roundInterval(1763));
    assertEquals(Plots.NO_LABEL, Plots.stepLabel(2.5));
  }

  @Test
  void movingAverageIsTheDebiasedEma() {
    List<LossCurve.Point> p =
        List.of(
            new LossCurve.Point(1, 4),
            new LossCurve.Point(2, 2),
            new LossCurve.Point(3, Double.NaN),
            new LossCurve.Point(4, 1));
    List<Double> ema = LossCurve.ema(p, 0.5);
    // s1 = 2, w1 = .5 → 4; s2 = 1 + 1 = 2, w2 = .75 → 8/3; NaN skipped; s4 = 1 + .5, w4 = .875.
    assertEquals(4.0, ema.get(0), 1e-12);
    assertEquals(8.0 / 3, ema.get(1), 1e-12);
    assertEquals(8.0 / 3, ema.get(2), 1e-12);
    assertEquals(1.5 / 0.875, ema.get(3), 1e-12);
  }

  @Test
  void barsCarryWhiskersOnlyWhereIntervalsAreGiven() throws Exception {
    EvalReport r = report();
    CategoryChart plain = Plots.clusterBarsChart(r, Map.of());
    assertNull(plain.getSeriesMap().get(EvalReport.TUNED).getExtraValues());
    save(Plots.png(plain), "clusters.png");
    double tunedNli = r.clusters().get(0).mean(EvalReport.TUNED);
    Map<String, Map<String, Plots.Interval>> ci =
        Map.of(
            "nli",
            Map.of(
                EvalReport.TUNED, new Plots.Interval(tunedNli - 3, tunedNli + 5),
                EvalReport.BASE, new Plots.Interval(38, 46)));
    CategoryChart c = Plots.clusterBarsChart(r, ci);
    List<Number> whiskers =
        new ArrayList<>(c.getSeriesMap().get(EvalReport.TUNED).getExtraValues());
    assertEquals(5.0, whiskers.get(0).doubleValue(), 1e-9, "reaches the farther end");
    assertEquals(0.0, whiskers.get(1).doubleValue(), "paraphrase has no interval");
    assertTrue(c.getTitle().contains("95% interval"));
    save(Plots.png(c), "clusters-ci.png");
  }

  /** A template scored right/wrong on {@code n} examples, {@code right} of them right. */
  private static TemplateScore scored(int template, int n, int right) {
    double[] per = new double[n];
    for (int i = 0; i < right; i++) per[i] = 100;
    return new TemplateScore(
        template,
        n,
        0,
        100.0 * right / n,
        Double.NaN,
        Double.NaN,
        per,
        Double.NaN,
        Double.NaN,
        new double[0],
        new double[0]);
  }

  @Test
  void htmlReportDrawsTheClusterIntervalsItPrints() throws Exception {
    Map<String, ModelScores> m = new LinkedHashMap<>();
    m.put(EvalReport.TUNED, new ModelScores(List.of(scored(0, 40, 30), scored(1, 40, 26))));
    m.put(EvalReport.BASE, new ModelScores(List.of(scored(0, 40, 16), scored(1, 40, 20))));
    ClusterResult nli =
        new ClusterResult(
            "nli",
            List.of(new TaskResult("t", "nli", "classification", "accuracy", 40, List.of(), m)));
    EvalReport.Provenance p =
        new EvalReport.Provenance(
            "now", 0, 0, "validation", 40, "tasks", List.of("nli"), List.of(), Map.of());
    EvalReport r =
        new EvalReport(List.of(EvalReport.TUNED, EvalReport.BASE), p, List.of(nli), Map.of());

    // The whiskers are the intervals the Markdown and JSON reports print.
    Map<String, Map<String, Plots.Interval>> ci = Plots.intervals(r);
    Significance.Interval tuned =
        new ReportStats(r).cluster(nli, EvalReport.TUNED, EvalReport.Measure.SCORE);
    assertTrue(tuned.exists());
    assertEquals(
        new Plots.Interval(tuned.low(), tuned.high()), ci.get("nli").get(EvalReport.TUNED));
    assertTrue(ci.get("nli").containsKey(EvalReport.BASE));
    assertTrue(Plots.intervals(report()).isEmpty(), "no per-example scores, no whiskers");

    // The PNG in report.html has them: many more whisker-coloured pixels than the same bars bare.
    String html = ReportHtml.render(r, java.util.Optional.empty());
    String tag = "src=\"data:image/png;base64,";
    int at = html.indexOf(tag) + tag.length();
    byte[] png = java.util.Base64.getDecoder().decode(html.substring(at, html.indexOf('"', at)));
    BufferedImage drawn = save(png, "clusters-html.png");
    BufferedImage bare = save(Plots.png(Plots.clusterBarsChart(r, Map.of())), "clusters-bare.png");
    int whisker = java.awt.Color.DARK_GRAY.getRGB();
    assertTrue(
        count(drawn, whisker) > count(bare, whisker) + 20,
        count(drawn, whisker) + " vs " + count(bare, whisker));
    assertTrue(Plots.clusterBarsChart(r, ci).getTitle().contains("95% interval"));
  }

  private static int count(BufferedImage img, int rgb) {
    int n = 0;
    for (int y = 0; y < img.getHeight(); y++)
      for (int x = 0; x < img.getWidth(); x++) if (img.getRGB(x, y) == rgb) n++;
    return n;
  }
}
