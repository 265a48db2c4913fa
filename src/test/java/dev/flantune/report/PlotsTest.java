package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;

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

  /** Run lengths that gave crowded, missing or non-round step labels, and neighbours. */
  static final int[] RUN_LENGTHS = {1, 2, 7, 8, 9, 10, 59, 100, 250, 999, 1000, 6000, 12345};

  @Test
  void stepLabelsAreFewRoundIncreasingAndCoverTheRun() {
    List<long[]> runs = new ArrayList<>();
    for (int n : RUN_LENGTHS) {
      runs.add(new long[] {1, n}); // a run logs steps 1..n
      runs.add(new long[] {0, n - 1});
      runs.add(new long[] {n, 3L * n}); // resumed halfway through a longer run
    }
    for (long n = 1; n <= 3000; n++) runs.add(new long[] {1, n});
    for (long[] run : runs) {
      long first = run[0], last = run[1];
      String what = first + ".." + last;
      List<Long> ticks = StepAxis.ticks(first, last);
      long every = StepAxis.interval(first, last);
      assertTrue(String.valueOf(every).matches("[125]0*"), what + ": interval " + every);
      assertTrue(!ticks.isEmpty() && ticks.size() <= StepAxis.MAX_TICKS, what + ": " + ticks);
      for (int i = 0; i < ticks.size(); i++) {
        long t = ticks.get(i);
        assertEquals(0, t % every, what + ": " + ticks);
        assertTrue(t >= first && t <= last, what + ": " + ticks);
        if (i > 0) assertEquals(every, t - ticks.get(i - 1), what + ": " + ticks);
        assertTrue(StepAxis.label(t).matches("\\d{1,3}(,\\d{3})*"), StepAxis.label(t));
      }
      // The labels reach within one interval of both ends of the run.
      assertTrue(ticks.get(0) - first < every, what + ": " + ticks);
      assertTrue(last - ticks.get(ticks.size() - 1) < every, what + ": " + ticks);
      if (last - first + 1 <= StepAxis.MAX_TICKS) assertEquals(last - first + 1, ticks.size());
      else assertTrue(ticks.size() >= 3, what + ": " + ticks);
    }
    assertEquals(List.of(200L, 400L, 600L, 800L), StepAxis.ticks(1, 999));
    assertEquals(List.of(1L), StepAxis.ticks(1, 1));
    assertEquals("12,000", StepAxis.label(12000));
  }

  /** A loss curve of {@code steps} steps from step {@code first}, validation every third. */
  static LossCurve curve(long first, int steps) {
    List<LossCurve.Point> train = new ArrayList<>(), val = new ArrayList<>();
    for (int i = 0; i < steps; i++) {
      double loss = 2 + 3 * Math.exp(-i / (steps / 3.0)) + Math.sin(i) * 0.3;
      train.add(new LossCurve.Point(first + i, loss));
      if ((i + 1) % Math.max(1, steps / 3) == 0)
        val.add(new LossCurve.Point(first + i, loss + 0.2));
    }
    return new LossCurve(train, val);
  }

  /**
   * Rendered, the loss plot shows exactly the step labels above, each centred on its step, none
   * touching another, and no other text under the plot (XChart's own labels stay invisible). A tick
   * layout that never ends fails here instead of hanging the build.
   */
  @Test
  @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void lossPlotDrawsThoseLabelsAloneAndSideBySide() throws Exception {
    for (int n : RUN_LENGTHS) {
      for (long first : new long[] {1, n}) {
        String what = n + " steps from " + first;
        Plots.LossPlot plot = Plots.lossCurvePlot(curve(first, n));
        BufferedImage img = BitmapEncoder.getBufferedImage(plot.chart());
        if (first == 1) save(Plots.png(plot.chart()), "loss-" + n + ".png");
        List<StepAxis.Placed> placed = plot.steps().placed();
        assertEquals(StepAxis.ticks(first, first + n - 1), plot.steps().ticks(), what);
        assertEquals(
            plot.steps().ticks(), placed.stream().map(StepAxis.Placed::step).toList(), what);
        for (int i = 0; i < placed.size(); i++) {
          StepAxis.Placed p = placed.get(i);
          assertEquals(StepAxis.label(p.step()), p.label());
          assertEquals(plot.chart().getScreenXFromChart(p.step()), p.tickX(), 1e-9, what);
          assertEquals(p.tickX(), p.bounds().getCenterX(), 1.0, what);
          assertTrue(p.bounds().getMinX() >= 0 && p.bounds().getMaxX() <= img.getWidth(), what);
          assertTrue(Pixels.dark(img, p.bounds()) > 5, what + ": label " + p.label() + " is drawn");
          if (i > 0)
            assertTrue(
                placed.get(i - 1).bounds().getMaxX() + 8 < p.bounds().getMinX(),
                what + ": " + placed.get(i - 1).label() + " touches " + p.label());
        }
        assertNoOtherTextInTheLabelRow(img, placed, what);
      }
    }
  }

  /** In the rows the step labels occupy, every dark pixel belongs to one of them. */
  private static void assertNoOtherTextInTheLabelRow(
      BufferedImage img, List<StepAxis.Placed> placed, String what) {
    double top = placed.stream().mapToDouble(p -> p.bounds().getMinY()).min().orElseThrow();
    double bottom = placed.stream().mapToDouble(p -> p.bounds().getMaxY()).max().orElseThrow();
    for (int y = (int) top; y <= (int) bottom; y++) {
      for (int x = 0; x < img.getWidth(); x++) {
        if (Pixels.dark(img, new java.awt.Rectangle(x, y, 0, 0)) == 0) continue;
        int px = x, py = y;
        boolean inLabel =
            placed.stream()
                .anyMatch(
                    p ->
                        px >= p.bounds().getMinX() - 2
                            && px <= p.bounds().getMaxX() + 2
                            && py >= p.bounds().getMinY() - 2
                            && py <= p.bounds().getMaxY() + 2);
        assertTrue(inLabel, what + ": stray text at (" + x + ", " + y + ")");
      }
    }
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
    assertTrue(whiskers(drawn) > whiskers(bare) + 20, whiskers(drawn) + " vs " + whiskers(bare));
    assertTrue(Plots.clusterBarsChart(r, ci).getTitle().contains("95% interval"));
  }

  private static int whiskers(BufferedImage img) {
    return Pixels.count(
        img, 0, 0, img.getWidth() - 1, img.getHeight() - 1, java.awt.Color.DARK_GRAY);
  }
}
