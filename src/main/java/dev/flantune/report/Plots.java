package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.TaskResult;
import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.awt.font.TextLayout;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's plots, drawn with XChart off-screen. Each plot is built as a chart (which tests
 * inspect) and encoded as PNG bytes for the HTML report.
 */
public final class Plots {
  static final int WIDTH = 720, HEIGHT = 360;

  /** Weight of the past in the loss curve's moving average (debiased, as TensorBoard draws). */
  static final double EMA_BETA = 0.9;

  static final Color BASE = new Color(0x9e9e9e), TUNED = new Color(0x1f77b4);

  /**
   * The loss plot's raw per-step loss (a light blue, opaque: thousands of overlapping steps stay
   * light, under the moving average in tuned's blue) and validation markers.
   */
  static final Color RAW_LOSS = new Color(0xaec7e8), VALIDATION = new Color(0xff7f0e);

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
    // Below the plot, where it can hide no bar (inside, it covered a high last bar).
    c.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    c.getStyler().setErrorBarsColor(Color.DARK_GRAY);
    List<String> names = r.clusters().stream().map(ClusterResult::name).toList();
    for (String m : baseFirst(r)) {
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
    List<String> tasks = cluster.tasks().stream().map(TaskResult::task).toList();
    int slantHeight = slantedLabelHeight(tasks);
    CategoryChart c =
        new CategoryChartBuilder()
            .width(WIDTH)
            // Slanted names take height: the chart grows by it, so the plot keeps its own.
            .height(HEIGHT + slantHeight)
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
    if (slantHeight > 0) slantLabels(c);
    int slots = 0;
    for (TaskResult t : cluster.tasks())
      slots = Math.max(slots, t.scores(EvalReport.TUNED).templates().size());
    for (String m : baseFirst(r)) {
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

  /**
   * The height category names add when they do not fit side by side under a chart of the usual
   * width (the plot is over 80% of it) and are slanted; 0 when they fit.
   */
  public static int slantedLabelHeight(List<String> names) {
    double widest = widestLabel(names);
    if (widest + 12 < 0.8 * WIDTH / names.size()) return 0;
    return (int) Math.ceil(widest * Math.sin(Math.toRadians(TASK_LABEL_ROTATION)));
  }

  /**
   * Slants the category names: each ends under its category's centre, all starting at the axis; the
   * lines are parallel and a category's width apart, so they never cross.
   */
  public static void slantLabels(CategoryChart c) {
    c.getStyler().setXAxisLabelRotation(TASK_LABEL_ROTATION);
    c.getStyler().setXAxisLabelAlignment(AxesChartStyler.TextAlignment.Right);
    c.getStyler().setXAxisLabelAlignmentVertical(AxesChartStyler.TextAlignment.Right);
  }

  /** Degrees the task names turn when they do not fit side by side. */
  static final int TASK_LABEL_ROTATION = 30;

  /** The width in pixels of the widest of {@code names} in the axis tick font. */
  static double widestLabel(List<String> names) {
    Font font = new CategoryChartBuilder().build().getStyler().getAxisTickLabelsFont();
    FontRenderContext frc = new FontRenderContext(null, true, false);
    double widest = 0;
    for (String n : names)
      widest = Math.max(widest, new TextLayout(n, font, frc).getBounds().getWidth());
    return widest;
  }

  static byte[] lossCurve(LossCurve curve) {
    return png(lossCurvePlot(curve).chart());
  }

  /** The loss plot and its step axis (which tests read for the labels it drew). */
  record LossPlot(XYChart chart, StepAxis steps) {}

  /**
   * Training loss against step: the raw per-step loss faint, its moving average on top, and the
   * validation loss as markers. Step labels are round whole numbers with thousands separators, at
   * most {@link StepAxis#MAX_TICKS} of them ({@link StepAxis}).
   */
  static LossPlot lossCurvePlot(LossCurve curve) {
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
    List<Double> steps = curve.train().stream().map(p -> (double) p.step()).toList();
    XYSeries raw =
        c.addSeries("loss", steps, curve.train().stream().map(LossCurve.Point::loss).toList());
    raw.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
    raw.setMarker(SeriesMarkers.NONE);
    raw.setLineColor(RAW_LOSS);
    XYSeries smooth =
        c.addSeries(
            String.format(Locale.ROOT, "loss, moving average (β = %.2f)", EMA_BETA),
            steps,
            LossCurve.ema(curve.train(), EMA_BETA));
    // A one-step run has no line to draw: its point is a dot.
    smooth.setMarker(curve.train().size() == 1 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
    smooth.setMarkerColor(TUNED);
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
      val.setMarkerColor(VALIDATION);
    }
    long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
    for (LossCurve.Point p : curve.train()) {
      first = Math.min(first, p.step());
      last = Math.max(last, p.step());
    }
    for (LossCurve.Point p : curve.validation()) {
      first = Math.min(first, p.step());
      last = Math.max(last, p.step());
    }
    return new LossPlot(c, StepAxis.install(c, first, last));
  }

  /** The models left to right, base before tuned (as the summary table's columns). */
  private static List<String> baseFirst(EvalReport r) {
    return r.compared() ? List.of(EvalReport.BASE, EvalReport.TUNED) : r.models();
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
