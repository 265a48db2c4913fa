package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's plots, drawn with XChart off-screen and returned as PNG bytes. */
final class Plots {
  private static final int WIDTH = 720, HEIGHT = 360;
  private static final Color BASE = new Color(0x9e9e9e), TUNED = new Color(0x1f77b4);

  private Plots() {}

  static {
    // Servers and CI have no display; XChart draws into an image either way.
    System.setProperty("java.awt.headless", "true");
  }

  /** Cluster means, base beside tuned. */
  static byte[] clusterBars(EvalReport r) {
    CategoryChart c =
        new CategoryChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Held-out clusters (mean over tasks)")
            .xAxisTitle("cluster")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
    List<String> names = r.clusters().stream().map(ClusterResult::name).toList();
    for (String m : r.models()) {
      List<Double> means = r.clusters().stream().map(cl -> zeroIfNaN(cl.mean(m))).toList();
      c.addSeries(m, names, means).setFillColor(m.equals(EvalReport.BASE) ? BASE : TUNED);
    }
    return png(c);
  }

  /**
   * One dot per template for each task of a cluster, base left of tuned, with the mean as a bar
   * marker: the spread across phrasings at a glance.
   */
  static byte[] templateSpread(EvalReport r, ClusterResult cluster) {
    XYChart c =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Per-template scores: " + cluster.name())
            .xAxisTitle("task")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
    c.getStyler().setMarkerSize(9);
    c.getStyler()
        .setYAxisMin(0.0)
        .setYAxisMax(100.0)
        .setXAxisMin(-0.5)
        .setXAxisMax(cluster.tasks().size() - 0.5);
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
    List<String> tasks = cluster.tasks().stream().map(TaskResult::task).toList();
    c.getStyler()
        .setxAxisTickLabelsFormattingFunction(
            x -> {
              long i = Math.round(x);
              return Math.abs(x - i) < 1e-6 && i >= 0 && i < tasks.size() ? tasks.get((int) i) : "";
            });
    for (String m : r.models()) {
      double offset = r.compared() ? (m.equals(EvalReport.BASE) ? -0.15 : 0.15) : 0;
      List<Double> xs = new ArrayList<>(),
          ys = new ArrayList<>(),
          mx = new ArrayList<>(),
          my = new ArrayList<>();
      for (int i = 0; i < cluster.tasks().size(); i++) {
        EvalReport.ModelScores s = cluster.tasks().get(i).scores(m);
        for (TemplateScore ts : s.templates()) {
          if (Double.isNaN(ts.score())) continue;
          xs.add(i + offset);
          ys.add(ts.score());
        }
        mx.add(i + offset);
        my.add(zeroIfNaN(s.spread().mean()));
      }
      Color color = m.equals(EvalReport.BASE) ? BASE : TUNED;
      if (!xs.isEmpty()) {
        XYSeries dots = c.addSeries(m + " (templates)", xs, ys);
        dots.setMarker(SeriesMarkers.CIRCLE);
        dots.setMarkerColor(color);
      }
      XYSeries mean = c.addSeries(m + " (mean)", mx, my);
      mean.setMarker(SeriesMarkers.TRIANGLE_UP);
      mean.setMarkerColor(color.darker());
    }
    return png(c);
  }

  /** Training (and validation) loss against step. */
  static byte[] lossCurve(LossCurve curve) {
    XYChart c =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title("Training loss")
            .xAxisTitle("step")
            .yAxisTitle("loss")
            .build();
    c.getStyler().setMarkerSize(4);
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNE);
    XYSeries train =
        c.addSeries(
            "loss",
            curve.train().stream().map(p -> (double) p.step()).toList(),
            curve.train().stream().map(LossCurve.Point::loss).toList());
    train.setMarker(SeriesMarkers.NONE);
    train.setLineColor(TUNED);
    if (!curve.validation().isEmpty()) {
      XYSeries val =
          c.addSeries(
              "val_loss",
              curve.validation().stream().map(p -> (double) p.step()).toList(),
              curve.validation().stream().map(LossCurve.Point::loss).toList());
      val.setMarker(SeriesMarkers.CIRCLE);
      val.setLineColor(Color.ORANGE);
      val.setMarkerColor(Color.ORANGE);
    }
    return png(c);
  }

  private static double zeroIfNaN(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  private static byte[] png(Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot draw a plot", e);
    }
  }
}
