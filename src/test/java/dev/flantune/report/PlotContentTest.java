package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.internal.chartpart.Axis;
import org.knowm.xchart.internal.chartpart.Chart;

/**
 * What a reader of report.html sees in its plots, read from the PNGs embedded in the HTML: each is
 * the chart Plots builds, pixel for pixel, and in its pixels are the bars at their means with their
 * whiskers, one dot per template at its score under its task's name, the moving average along the
 * loss, the validation markers and the step labels.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PlotContentTest {
  static final List<String> NLI_TASKS =
      List.of("country_facts_rte", "wordnet_hypernym_nli", "anli_r1");

  /** A template right on {@code right} of 40 examples (per-example scores, so intervals exist). */
  static TemplateScore template(int index, int right) {
    return ReportSignificanceTest.template(index, 40, right, right);
  }

  static ModelScores scores(int... right) {
    List<TemplateScore> t = new ArrayList<>();
    for (int i = 0; i < right.length; i++) t.add(template(i, right[i]));
    return new ModelScores(t);
  }

  static TaskResult task(String name, String cluster, ModelScores base, ModelScores tuned) {
    Map<String, ModelScores> m = new LinkedHashMap<>();
    m.put(EvalReport.TUNED, tuned);
    m.put(EvalReport.BASE, base);
    return new TaskResult(name, cluster, "classification", "accuracy", 40, List.of(), m);
  }

  static EvalReport report(List<String> nliTasks) {
    List<TaskResult> nli = new ArrayList<>();
    for (int i = 0; i < nliTasks.size(); i++)
      nli.add(task(nliTasks.get(i), "nli", scores(12 + i, 14, 16), scores(20 + 3 * i, 26, 31 - i)));
    ClusterResult para =
        new ClusterResult(
            "paraphrase",
            List.of(task("wordnet_paraphrase", "paraphrase", scores(20, 20), scores(36, 30))));
    EvalReport.Provenance p =
        new EvalReport.Provenance(
            "now",
            0,
            0,
            "validation",
            40,
            "tasks",
            List.of("nli", "paraphrase"),
            List.of(),
            Map.of());
    return new EvalReport(
        List.of(EvalReport.TUNED, EvalReport.BASE),
        p,
        List.of(new ClusterResult("nli", nli), para),
        Map.of());
  }

  /** report.html's images, in order, with their alt texts. */
  static Map<String, BufferedImage> htmlImages(String html) throws Exception {
    Map<String, BufferedImage> out = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile("<img alt=\"([^\"]+)\" src=\"data:image/png;base64,([^\"]+)\"")
            .matcher(html);
    while (m.find()) {
      byte[] png = Base64.getDecoder().decode(m.group(2));
      Files.createDirectories(PlotsTest.OUT);
      Files.write(PlotsTest.OUT.resolve("html-" + m.group(1).replace(' ', '-') + ".png"), png);
      out.put(m.group(1), ImageIO.read(new ByteArrayInputStream(png)));
    }
    return out;
  }

  @Test
  void reportHtmlPlotsShowWhatTheReportSays() throws Exception {
    EvalReport r = report(NLI_TASKS);
    LossCurve loss = PlotsTest.curve(1, 999);
    Map<String, BufferedImage> images = htmlImages(ReportHtml.render(r, Optional.of(loss)));
    assertEquals(
        List.of(
            "cluster means",
            "template spread of nli",
            "template spread of paraphrase",
            "training loss"),
        List.copyOf(images.keySet()));

    CategoryChart bars = Plots.clusterBarsChart(r, Plots.intervals(r));
    assertSame(BitmapEncoder.getBufferedImage(bars), images.get("cluster means"));
    barsStandAtTheirMeansWithWhiskers(r, bars, images.get("cluster means"));

    for (ClusterResult c : r.clusters()) {
      CategoryChart dots = Plots.templateSpreadChart(r, c);
      BufferedImage img = images.get("template spread of " + c.name());
      assertSame(BitmapEncoder.getBufferedImage(dots), img);
      dotsSitAtTheirScoresUnderTheirTask(r, c, dots, img);
    }

    Plots.LossPlot plot = Plots.lossCurvePlot(loss);
    BufferedImage img = images.get("training loss");
    assertSame(BitmapEncoder.getBufferedImage(plot.chart()), img);
    lossCurveShowsTheAverageTheValidationAndTheSteps(loss, plot, img);
  }

  /** Left to right, each cluster's base bar then tuned bar, topped at its mean, whiskered. */
  static void barsStandAtTheirMeansWithWhiskers(EvalReport r, CategoryChart c, BufferedImage img)
      throws Exception {
    assertEquals(List.of("nli", "paraphrase"), xTickLabels(c));
    labelsAreDrawn(c, img);
    int floor = (int) Math.round(c.getScreenYFromChart(0)) - 2;
    for (String m : List.of(EvalReport.BASE, EvalReport.TUNED)) {
      Color fill = m.equals(EvalReport.BASE) ? Plots.BASE : Plots.TUNED;
      List<int[]> runs = Pixels.runs(img, floor, fill); // [from, to] columns of this colour
      assertEquals(r.clusters().size(), runs.size(), m + " bars: " + runs.size());
      for (int i = 0; i < runs.size(); i++) {
        int centre = (runs.get(i)[0] + runs.get(i)[1]) / 2;
        double mean = r.clusters().get(i).mean(m);
        int top = Pixels.topOfRun(img, centre + 5, floor, fill); // beside the whisker
        assertEquals(c.getScreenYFromChart(mean), top, 2.0, m + " bar " + i + " mean " + mean);
        // The 95% whisker rises above the bar in the whisker colour.
        int whisker = Pixels.count(img, centre - 1, top - 25, centre + 1, top - 1, Color.DARK_GRAY);
        assertTrue(whisker >= 5, m + " bar " + i + " whisker pixels " + whisker);
      }
    }
    List<int[]> base = Pixels.runs(img, floor, Plots.BASE),
        tuned = Pixels.runs(img, floor, Plots.TUNED);
    for (int i = 0; i < base.size(); i++)
      assertTrue(base.get(i)[1] < tuned.get(i)[0], "base left of tuned in cluster " + i);
  }

  /**
   * The task names label the x axis, in order, and are drawn; every template score is one dot in
   * its model's colour at its height, each mean a diamond in the darker shade; plus one of each in
   * the legend below the plot.
   */
  static void dotsSitAtTheirScoresUnderTheirTask(
      EvalReport r, ClusterResult cluster, CategoryChart c, BufferedImage img) throws Exception {
    List<String> names = cluster.tasks().stream().map(TaskResult::task).toList();
    assertEquals(names, xTickLabels(c));
    labelsAreDrawn(c, img);
    double plotBottom = c.getScreenYFromChart(0) + 6;
    for (String m : List.of(EvalReport.BASE, EvalReport.TUNED)) {
      Color dot = m.equals(EvalReport.BASE) ? Plots.BASE : Plots.TUNED;
      List<Double> want = new ArrayList<>(), wantMeans = new ArrayList<>();
      for (TaskResult t : cluster.tasks()) {
        for (TemplateScore s : t.scores(m).templates()) want.add(c.getScreenYFromChart(s.score()));
        wantMeans.add(c.getScreenYFromChart(t.scores(m).spread().mean()));
      }
      for (var e : Map.of(dot, want, dot.darker(), wantMeans).entrySet()) {
        List<double[]> blobs = Pixels.blobs(img, e.getKey());
        List<Double> inPlot = new ArrayList<>();
        int legend = 0;
        for (double[] b : blobs) {
          if (b[2] < 12) continue; // an anti-aliased pixel of text or a grid line, not a marker
          if (b[1] > plotBottom) legend++;
          else inPlot.add(b[1]);
        }
        assertEquals(1, legend, m + ": one legend marker");
        List<Double> expected = new ArrayList<>(e.getValue());
        expected.sort(null);
        inPlot.sort(null);
        assertEquals(expected.size(), inPlot.size(), m + " " + e.getKey() + ": " + inPlot);
        for (int i = 0; i < expected.size(); i++)
          assertEquals(expected.get(i), inPlot.get(i), 2.0, m + " dot heights " + inPlot);
      }
    }
  }

  /** The moving average runs along its values, validation markers sit at theirs, steps labelled. */
  static void lossCurveShowsTheAverageTheValidationAndTheSteps(
      LossCurve loss, Plots.LossPlot plot, BufferedImage img) {
    var chart = plot.chart();
    List<Double> ema = LossCurve.ema(loss.train(), Plots.EMA_BETA);
    int onLine = 0, samples = 0;
    List<String> missed = new ArrayList<>();
    for (int i = 5; i < loss.train().size(); i += 7) {
      samples++;
      int x = (int) Math.round(chart.getScreenXFromChart(loss.train().get(i).step()));
      int y = (int) Math.round(chart.getScreenYFromChart(ema.get(i)));
      // Several steps share a pixel column, so the line zig-zags by a few pixels within it.
      if (Pixels.count(img, x, y - 4, x, y + 4, Plots.TUNED) > 0) onLine++;
      else missed.add(i + "@" + x + "," + y);
    }
    assertTrue(
        onLine > 0.95 * samples, "moving average at " + onLine + " of " + samples + " " + missed);
    int raw = Pixels.count(img, 0, 0, img.getWidth() - 1, img.getHeight() - 1, Plots.RAW_LOSS);
    assertTrue(raw > 2000, "raw loss pixels " + raw);
    for (LossCurve.Point v : loss.validation()) {
      int x = (int) Math.round(chart.getScreenXFromChart(v.step()));
      int y = (int) Math.round(chart.getScreenYFromChart(v.loss()));
      assertTrue(
          Pixels.count(img, x - 1, y - 1, x + 1, y + 1, Plots.VALIDATION) >= 5,
          "validation marker at step " + v.step());
    }
    for (StepAxis.Placed p : plot.steps().placed())
      assertTrue(Pixels.dark(img, p.bounds()) > 5, "step label " + p.label());
    assertEquals(
        List.of("200", "400", "600", "800"),
        plot.steps().placed().stream().map(StepAxis.Placed::label).toList());
  }

  /** Many long task names turn so that none overlaps the next, and all are drawn. */
  @Test
  void longTaskNamesAreSlantedAndAllDrawn() throws Exception {
    List<String> many = new ArrayList<>(NLI_TASKS);
    many.addAll(
        List.of(
            "glue_qnli_question_answering", "superglue_cb", "wnli_winograd", "snli_entailment"));
    EvalReport r = report(many);
    CategoryChart c = Plots.templateSpreadChart(r, r.clusters().get(0));
    BufferedImage img = BitmapEncoder.getBufferedImage(c);
    Files.createDirectories(PlotsTest.OUT);
    BitmapEncoder.saveBitmap(
        c,
        PlotsTest.OUT.resolve("template-spread-many").toString(),
        BitmapEncoder.BitmapFormat.PNG);
    assertEquals(many, xTickLabels(c));
    assertEquals(Plots.TASK_LABEL_ROTATION, c.getStyler().getXAxisLabelRotation());
    labelsAreDrawn(c, img);
    // Slanted names are parallel lines: their distance apart must exceed a line of text.
    List<Double> x = xTickPositions(c);
    double apart = (x.get(1) - x.get(0)) * Math.sin(Math.toRadians(Plots.TASK_LABEL_ROTATION));
    double lineHeight = c.getStyler().getAxisTickLabelsFont().getSize2D() * 1.2;
    assertTrue(apart > lineHeight + 2, apart + " px apart");
    CategoryChart one = Plots.templateSpreadChart(r, r.clusters().get(1));
    assertEquals(0, one.getStyler().getXAxisLabelRotation(), "a single name fits upright");
  }

  /** Ink (dark pixels) under each x tick of a category chart, where its label is drawn. */
  static void labelsAreDrawn(CategoryChart c, BufferedImage img) throws Exception {
    int below = (int) Math.round(c.getScreenYFromChart(0));
    List<String> labels = xTickLabels(c);
    List<Double> xs = xTickPositions(c);
    for (int i = 0; i < labels.size(); i++) {
      int x = (int) Math.round(xs.get(i));
      int ink = Pixels.dark(img, new java.awt.Rectangle(x - 12, below + 4, 24, 22));
      assertTrue(ink > 10, "label " + labels.get(i) + " drawn: " + ink + " dark pixels");
    }
  }

  /** XChart's x tick labels as laid out at the last paint (its axis is not public API). */
  static List<String> xTickLabels(Chart<?, ?> c) throws Exception {
    return xAxis(c).getAxisTickCalculator().getTickLabels();
  }

  static List<Double> xTickPositions(Chart<?, ?> c) throws Exception {
    Axis<?, ?> axis = xAxis(c);
    List<Double> out = new ArrayList<>();
    for (double at : axis.getAxisTickCalculator().getTickLocations())
      out.add(axis.getBounds().getX() + at);
    return out;
  }

  private static Axis<?, ?> xAxis(Chart<?, ?> c) throws Exception {
    Method m = Chart.class.getDeclaredMethod("getXAxis");
    m.setAccessible(true);
    return (Axis<?, ?>) m.invoke(c);
  }

  private static void assertSame(BufferedImage want, BufferedImage got) {
    assertEquals(want.getWidth(), got.getWidth());
    assertEquals(want.getHeight(), got.getHeight());
    for (int y = 0; y < want.getHeight(); y++)
      for (int x = 0; x < want.getWidth(); x++)
        if (want.getRGB(x, y) != got.getRGB(x, y))
          throw new AssertionError("the embedded PNG differs from the chart at " + x + "," + y);
  }
}
