package dev.flantune.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * A study's report: {@code study.json} (every run's held-out numbers from its report.json, with
 * intervals and p-values), {@code study.md} (a table) and {@code study.png} (held-out score per
 * cluster, or against the number of training clusters as in FLAN's figure 6).
 */
final class StudyReport {
  static final String JSON_FILE = "study.json", MARKDOWN = "study.md", PLOT = "study.png";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  static {
    System.setProperty("java.awt.headless", "true");
  }

  private StudyReport() {}

  /** One held-out cluster's numbers in one run. */
  record Row(Study.Point point, String cluster, JsonNode result) {
    double mean(String model) {
      return num(result.get("mean").get(model));
    }

    double[] ci(String model) {
      JsonNode c = result.get("ci95").get(model);
      return c == null || c.isNull()
          ? null
          : new double[] {c.get(0).asDouble(), c.get(1).asDouble()};
    }

    double p() {
      JsonNode t = result.get("delta_test");
      return t == null ? Double.NaN : num(t.get("p"));
    }

    /**
     * Generative accuracy or option rate: {base, tuned, delta, delta_test}; null if not measured.
     */
    JsonNode generation(String key) {
      return result.get(key);
    }
  }

  static List<Row> rows(List<Study.Point> points) {
    List<Row> rows = new ArrayList<>();
    for (Study.Point p : points) {
      var clusters = Study.clusters(p.report());
      for (String c : p.heldOut()) rows.add(new Row(p, c, clusters.get(c)));
    }
    return rows;
  }

  static void write(String kind, Path config, List<Study.Point> points, Path out)
      throws IOException {
    List<Row> rows = rows(points);
    write(out.resolve(JSON_FILE), json(kind, config, rows));
    write(out.resolve(MARKDOWN), markdown(kind, config, rows));
    Files.write(out.resolve(PLOT), plot(kind, rows));
  }

  private static String json(String kind, Path config, List<Row> rows) throws IOException {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", "flan-tune-study/1");
    root.put("study", kind);
    root.put("config", config.toAbsolutePath().toString());
    ArrayNode runs = root.putArray("runs");
    for (Row r : rows) {
      ObjectNode o = runs.addObject();
      o.put("label", r.point().label()).put("cluster_count", r.point().clusterCount());
      r.point().trained().forEach(o.putArray("trained_clusters")::add);
      o.put("held_out", r.cluster());
      o.put("run_dir", r.point().dir().toAbsolutePath().toString());
      o.put("seconds", r.point().seconds()).put("reused", r.point().reused());
      o.set("mean", r.result().get("mean"));
      o.set("ci95", r.result().get("ci95"));
      if (r.result().has("delta_test")) o.set("delta_test", r.result().get("delta_test"));
      for (String g : List.of("generative_accuracy", "option_rate"))
        if (r.generation(g) != null) o.set(g, r.generation(g));
    }
    return JSON.writeValueAsString(root) + "\n";
  }

  private static String markdown(String kind, Path config, List<Row> rows) {
    StringBuilder sb = new StringBuilder();
    boolean count = kind.equals("clusters");
    sb.append(
            count
                ? "# Study: held-out score against the number of training clusters\n\n"
                : "# Study: leave one cluster out\n\n")
        .append("Config `")
        .append(config)
        .append("`. Rank-classification (or the task metric) score of each held-out cluster,")
        .append(" mean over its tasks, with the bootstrap 95% interval over examples; p: paired")
        .append(" bootstrap, base vs tuned on the same examples, `*` when p < 0.05.")
        .append(
            " Gen.: generative accuracy (classification tasks answered by greedy decoding).\n\n");
    sb.append(count ? "| training clusters | added |" : "| held-out cluster | trained on |")
        .append(count ? " held out |" : "")
        .append(
            " base | tuned [95% CI] | Δ | p | gen. base | gen. tuned | gen. Δ | gen. p | time |\n");
    sb.append(count ? "|---:|---|---|" : "|---|---:|")
        .append("---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : rows) {
      Study.Point p = r.point();
      if (count)
        sb.append("| ")
            .append(p.clusterCount())
            .append(" | ")
            .append(p.trained().get(p.trained().size() - 1))
            .append(" | ")
            .append(r.cluster())
            .append(" |");
      else
        sb.append("| ")
            .append(r.cluster())
            .append(" | ")
            .append(p.clusterCount())
            .append(" clusters |");
      double[] ci = r.ci("tuned");
      sb.append(' ')
          .append(pct(r.mean("base")))
          .append(" | ")
          .append(pct(r.mean("tuned")))
          .append(ci == null ? "" : " [" + pct(ci[0]) + ", " + pct(ci[1]) + "]")
          .append(" | ")
          .append(signed(r.mean("delta")))
          .append(r.p() < 0.05 ? " *" : "")
          .append(" | ")
          .append(p(r.p()))
          .append(" |");
      JsonNode g = r.generation("generative_accuracy");
      if (g == null) sb.append(" – | – | – | – |");
      else
        sb.append(' ')
            .append(pct(num(g.get("base"))))
            .append(" | ")
            .append(pct(num(g.get("tuned"))))
            .append(" | ")
            .append(signed(num(g.get("delta"))))
            .append(" | ")
            .append(g.has("delta_test") ? p(num(g.get("delta_test").get("p"))) : "–")
            .append(" |");
      sb.append(' ')
          .append(
              String.format(Locale.ROOT, "%.0f s%s", p.seconds(), p.reused() ? " (reused)" : ""))
          .append(" |\n");
    }
    if (count && !rows.isEmpty()) {
      sb.append("\nTraining clusters in the order added: ")
          .append(String.join(", ", rows.get(rows.size() - 1).point().trained()))
          .append(".\n");
    }
    sb.append("\n![plot](").append(PLOT).append(")\n");
    return sb.toString();
  }

  /**
   * Clusters study: held-out score (and generative accuracy) against the number of training
   * clusters, the base model's score as the 0-cluster point. Held-out study: the clusters named on
   * the x axis ({@link #heldOutChart}). Interval ends are drawn as error bars.
   */
  static byte[] plot(String kind, List<Row> rows) throws IOException {
    if (!kind.equals("clusters"))
      return BitmapEncoder.getBitmapBytes(heldOutChart(rows), BitmapEncoder.BitmapFormat.PNG);
    XYChart c =
        new XYChartBuilder()
            .width(720)
            .height(400)
            .title("Held-out score vs number of training clusters")
            .xAxisTitle("training clusters")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
    List<String> labels = new ArrayList<>();
    for (Row r : rows) if (!labels.contains(r.cluster())) labels.add(r.cluster());
    for (String model : List.of("base", "tuned")) {
      for (String held : labels) {
        List<Double> xs = new ArrayList<>(), ys = new ArrayList<>(), err = new ArrayList<>();
        List<Double> gx = new ArrayList<>(), gy = new ArrayList<>();
        for (Row r : rows) {
          if (!r.cluster().equals(held)) continue;
          // The base model has no training clusters: one point at 0 per held-out cluster.
          double x = model.equals("base") ? 0 : r.point().clusterCount();
          double[] ci = r.ci(model);
          xs.add(x);
          ys.add(zero(r.mean(model)));
          err.add(ci == null ? 0 : (ci[1] - ci[0]) / 2);
          JsonNode g = r.generation("generative_accuracy");
          if (g != null) {
            gx.add(x);
            gy.add(zero(num(g.get(model))));
          }
          if (model.equals("base")) break;
        }
        if (xs.isEmpty()) continue;
        String name = model + " " + held;
        XYSeries s = c.addSeries(name, xs, ys, err);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setMarkerColor(model.equals("base") ? Color.GRAY : new Color(0x1f77b4));
        if (!gx.isEmpty() && model.equals("tuned")) {
          XYSeries g = c.addSeries(name + " (generative)", gx, gy);
          g.setMarker(SeriesMarkers.DIAMOND);
        }
      }
    }
    return BitmapEncoder.getBitmapBytes(c, BitmapEncoder.BitmapFormat.PNG);
  }

  /**
   * Leave-one-cluster-out: one category per held-out cluster, named on the x axis, with base and
   * tuned side by side (score with its 95% interval, and generative accuracy where measured).
   */
  static CategoryChart heldOutChart(List<Row> rows) {
    List<String> clusters = rows.stream().map(Row::cluster).toList();
    int slantHeight = dev.flantune.report.Plots.slantedLabelHeight(clusters);
    CategoryChart c =
        new CategoryChartBuilder()
            .width(720)
            .height(400 + slantHeight)
            .title("Leave one cluster out")
            .xAxisTitle("held-out cluster")
            .yAxisTitle("score (%)")
            .build();
    c.getStyler()
        .setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Scatter)
        .setOverlapped(false)
        .setAvailableSpaceFill(0.6);
    c.getStyler().setMarkerSize(8);
    c.getStyler().setYAxisMin(0.0).setYAxisMax(100.0);
    c.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideS);
    c.getStyler().setLegendLayout(org.knowm.xchart.style.Styler.LegendLayout.Horizontal);
    if (slantHeight > 0) dev.flantune.report.Plots.slantLabels(c);
    boolean generative = rows.stream().anyMatch(r -> r.generation("generative_accuracy") != null);
    for (String model : List.of("base", "tuned")) {
      Color color = model.equals("base") ? Color.GRAY : new Color(0x1f77b4);
      List<Double> ys = new ArrayList<>(), err = new ArrayList<>(), gen = new ArrayList<>();
      for (Row r : rows) {
        double[] ci = r.ci(model);
        ys.add(zero(r.mean(model)));
        err.add(ci == null ? 0 : (ci[1] - ci[0]) / 2);
        JsonNode g = r.generation("generative_accuracy");
        gen.add(g == null ? null : zero(num(g.get(model))));
      }
      CategorySeries s = c.addSeries(model, clusters, ys, err);
      s.setMarker(SeriesMarkers.CIRCLE).setMarkerColor(color);
      if (generative) {
        CategorySeries g = c.addSeries(model + " (generative)", clusters, gen);
        g.setMarker(SeriesMarkers.DIAMOND).setMarkerColor(color.darker());
      }
    }
    return c;
  }

  private static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static double num(JsonNode n) {
    return n == null || n.isNull() ? Double.NaN : n.asDouble();
  }

  private static double zero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String signed(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%+.1f", v);
  }

  private static String p(double v) {
    if (Double.isNaN(v)) return "–";
    return v < 0.001 ? "<0.001" : String.format(Locale.ROOT, "%.3f", v);
  }
}
