package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.TaskResult;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's plots, drawn with XChart off-screen. Each plot is built as a chart (which tests
 * inspect) and encoded as PNG bytes for the HTML report.
 */
final class Plots {
  static final int WIDTH = 720, HEIGHT = 360;

  /** At most this many step labels on the loss plot's x axis: they must never run together. */
  static final int MAX_STEP_TICKS = 8;

  /** Weight of the past in the loss curve's moving average (debiased, as TensorBoard draws). */
  static final double EMA_BETA = 0.9;

  private static final Color BASE = new Color(0x9e9e9e), TUNED = new Color(0x1f77b4);

  private Plots() {}

  static {
    // Servers and CI have no display; XChart draws into an image either way.
    System.setProperty("java.awt.headless", "true");
  }

  /** A 95% interval around a plotted score (percent). */
  record Interval(double low, double high) {}

  static byte[] clusterBars(EvalReport r) {
    return png(clusterBarsChart(r, intervals(r)));
  }

  /**
   * Each cluster's 95% interval per model, from the report's per-example scores (the ones the
   * Markdown and JSON reports print); empty when the report has none (no per-example scores).
   */
  static Map<String, Map<String, Interval>> intervals(EvalReport r) {
    ReportStats stats = new ReportStats(r);
    Map<String, Map<String, Interval>> out = new java.util.LinkedHashMap<>();
    for (ClusterResult c : r.clusters()) {
      Map<String, Interval> byModel = new java.util.LinkedHashMap<>();
      for (String m : r.models()) {
        Significance.Interval ci = stats.cluster(c, m, EvalReport.Measure.SCORE);
        if (ci.exists()) byModel.put(m, new Interval(ci.low(), ci.high()));
      }
      if (!byModel.isEmpty()) out.put(c.name(), byModel);
    }
    return out;
  }

  /**
   * Cluster means, base beside tuned, with whiskers for the 95% interval where {@code intervals}
   * (cluster → model → interval) has one. XChart's whiskers are symmetric, so each reaches the
   * interval's farther end: never narrower than the interval.
   */
  static CategoryChart clusterBarsChart(
      EvalReport r, Map<String, Map<String, Interval>> intervals) {
    CategoryChart c =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(
                "Held-out clusters (mean over tasks)"
                    + (intervals.isEmpty() ? "" : ", whiskers: 95% interval"))
            .xAxisTitle("cluster")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    c.getStyler().setErrorBarsColor(Color.DARK_GRAY);
    List<String> names = r.clusters().stream().map(ClusterResult::name).toList();
    for (String m : r.models()) {
      List<Double> means = new ArrayList<>(), whiskers = new ArrayList<>();
      boolean any = false;
      for (ClusterResult cl : r.clusters()) {
        double mean = zeroIfNaN(cl.mean(m));
        means.add(mean);
        Interval ci = intervals.getOrDefault(cl.name(), Map.of()).get(m);
        any |= ci != null;
        whiskers.add(ci == null ? 0.0 : Math.max(mean - ci.low(), ci.high() - mean));
      }
      CategorySeries s =
          any ? c.addSeries(m, names, means, whiskers) : c.addSeries(m, names, means);
      s.setFillColor(m.equals(EvalReport.BASE) ? BASE : TUNED);
    }
    return c;
  }

  static byte[] templateSpread(EvalReport r, ClusterResult cluster) {
    return png(templateSpreadChart(r, cluster));
  }

  /**
   * One dot per template for each task of a cluster, the tasks named on the x axis: within each
   * task, base's templates on the left, tuned's on the right, each followed by its mean (a
   * diamond). One category series per template slot, so XChart lays the dots out side by side.
   */
  static CategoryChart templateSpreadChart(EvalReport r, ClusterResult cluster) {
    CategoryChart c =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Per-template scores: " + cluster.name())
            .xAxisTitle("task")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler()
        .setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Scatter)
        .setOverlapped(false)
        .setAvailableSpaceFill(0.8);
    c.getStyler().setMarkerSize(8);
    c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    List<String> tasks = cluster.tasks().stream().map(TaskResult::task).toList();
    int slots = 0;
    for (TaskResult t : cluster.tasks())
      slots = Math.max(slots, t.scores(EvalReport.TUNED).templates().size());
    List<String> models = new ArrayList<>(r.models());
    if (r.compared()) models = List.of(EvalReport.BASE, EvalReport.TUNED); // base on the left
    for (String m : models) {
      Color color = m.equals(EvalReport.BASE) ? BASE : TUNED;
      for (int slot = 0; slot < slots; slot++) {
        List<Double> ys = new ArrayList<>();
        for (TaskResult t : cluster.tasks()) {
          var templates = t.scores(m).templates();
          double v = slot < templates.size() ? templates.get(slot).score() : Double.NaN;
          ys.add(Double.isNaN(v) ? null : v);
        }
        CategorySeries dots = c.addSeries(m + " template " + slot, tasks, ys);
        dots.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(color);
        dots.setShowInLegend(slot == 0);
        if (slot == 0) dots.setLabel(m + " (one dot per template)");
      }
      List<Double> means = new ArrayList<>();
      for (TaskResult t : cluster.tasks()) {
        double v = t.scores(m).spread().mean();
        means.add(Double.isNaN(v) ? null : v);
      }
      CategorySeries mean = c.addSeries(m + " mean", tasks, means);
      mean.setMarker(SeriesMarkers.DIAMOND).setMarkerColor(color.darker());
    }
    return c;
  }

  static byte[] lossCurve(LossCurve curve) {
    return png(lossCurveChart(curve, Function.identity()));
  }

  /**
   * Training loss against step: the raw per-step loss faint, its moving average on top, and the
   * validation loss as markers. Step labels are whole numbers with thousands separators, at most
   * {@link #MAX_STEP_TICKS} of them. {@code stepLabels} sees every label drawn (tests record them).
   */
  static XYChart lossCurveChart(LossCurve curve, Function<String, String> stepLabels) {
    XYChart c =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Training loss")
            .xAxisTitle("step")
            .yAxisTitle("loss")
            .build();
    c.getStyler().setMarkerSize(7);
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    c.getStyler().setXAxisMaxLabelCount(MAX_STEP_TICKS);
    c.getStyler().setXAxisTickMarkSpacingHint(WIDTH / MAX_STEP_TICKS);
    List<Double> steps = curve.train().stream().map(p -> (double) p.step()).toList();
    // XChart may put a tick at every step of a short run and then drop labels that collide,
    // which is how "201226251276" happened: label only multiples of a round interval instead.
    double first = steps.get(0), last = steps.get(steps.size() - 1);
    long every = roundInterval((last - first) / (MAX_STEP_TICKS - 1));
    c.getStyler()
        .setxAxisTickLabelsFormattingFunction(
            x ->
                stepLabels.apply(
                    x >= first - 1e-9 && x <= last + 1e-9 && Math.round(x) % every == 0
                        ? stepLabel(x)
                        : NO_LABEL));
    XYSeries raw =
        c.addSeries("loss", steps, curve.train().stream().map(LossCurve.Point::loss).toList());
    raw.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    raw.setMarker(SeriesMarkers.NONE);
    raw.setLineColor(new Color(0x1f, 0x77, 0xb4, 0x55));
    XYSeries smooth =
        c.addSeries(
            String.format(Locale.ROOT, "loss, moving average (β = %.2f)", EMA_BETA),
            steps,
            LossCurve.ema(curve.train(), EMA_BETA));
    smooth.setMarker(SeriesMarkers.NONE);
    smooth.setLineColor(TUNED);
    smooth.setLineWidth(2.5f);
    if (!curve.validation().isEmpty()) {
      XYSeries val =
          c.addSeries(
              "validation loss",
              curve.validation().stream().map(p -> (double) p.step()).toList(),
              curve.validation().stream().map(LossCurve.Point::loss).toList());
      val.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
      val.setMarker(SeriesMarkers.DIAMOND);
      val.setMarkerColor(new Color(0xff7f0e));
    }
    return c;
  }

  /** The smallest of 1, 2, 5, 10, 20, 50, … steps that is at least {@code atLeast}. */
  static long roundInterval(double atLeast) {
    for (long scale = 1; ; scale *= 10) {
      for (long m : new long[] {1, 2, 5}) if (m * scale >= atLeast) return m * scale;
    }
  }

  /** An unlabelled tick (XChart cannot lay out an empty string). */
  static final String NO_LABEL = " ";

  /** A step tick: a whole number with thousands separators; none at fractional positions. */
  static String stepLabel(double x) {
    long i = Math.round(x);
    return Math.abs(x - i) > 1e-9 ? NO_LABEL : String.format(Locale.ROOT, "%,d", i);
  }

  private static double zeroIfNaN(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  static byte[] png(Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw a plot", e);
    }
  }
}
