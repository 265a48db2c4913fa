package dev.flantune.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;

/**
 * The leave-one-cluster-out plot names its clusters on the x axis (it drew blank labels when the
 * clusters were numeric x positions), one category per held-out cluster, base and tuned each at its
 * cluster's score with its interval, generative accuracy beside them.
 */
class StudyPlotTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Study.Point point(String cluster, double base, double tuned, Double genTuned)
      throws Exception {
    String gen =
        genTuned == null
            ? ""
            : ", \"generative_accuracy\": {\"base\": 0.0, \"tuned\": " + genTuned + "}";
    JsonNode report =
        JSON.readTree(
            "{\"clusters\": [{\"name\": \""
                + cluster
                + "\", \"mean\": {\"base\": "
                + base
                + ", \"tuned\": "
                + tuned
                + "}, \"ci95\": {\"base\": ["
                + (base - 4)
                + ", "
                + (base + 4)
                + "], \"tuned\": ["
                + (tuned - 2)
                + ", "
                + (tuned + 2)
                + "]}, \"delta_test\": {\"p\": 0.01}"
                + gen
                + "}]}");
    return new Study.Point(
        cluster, 12, List.of("x"), List.of(cluster), Path.of("run"), report, 1.0, false);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void clustersAreTheCategoriesAndEveryScoreIsItsOwn() throws Exception {
    List<Study.Point> points = new ArrayList<>();
    points.add(point("summarization", 6.9, 9.6, null));
    points.add(point("coreference", 55.8, 52.9, 0.0));
    points.add(point("reading_comprehension", 28.3, 28.8, 53.9));
    List<StudyReport.Row> rows = StudyReport.rows(points);
    CategoryChart c = StudyReport.heldOutChart(rows);
    List<String> names = List.of("summarization", "coreference", "reading_comprehension");
    var series = c.getSeriesMap();
    assertEquals(
        List.of("base", "base (generative)", "tuned", "tuned (generative)"),
        List.copyOf(series.keySet()));
    for (CategorySeries s : series.values()) assertEquals(names, List.copyOf(s.getXData()));
    assertEquals(List.of(6.9, 55.8, 28.3), doubles(series.get("base").getYData()));
    assertEquals(List.of(9.6, 52.9, 28.8), doubles(series.get("tuned").getYData()));
    assertEquals(List.of(2.0, 2.0, 2.0), doubles(series.get("tuned").getExtraValues()));
    List<Double> gen = doubles(series.get("tuned (generative)").getYData());
    assertEquals(null, gen.get(0), "not measured for a generation cluster: no point");
    assertEquals(53.9, gen.get(2), 0);
    // It renders (no label search loops), at the chart's size.
    byte[] png = StudyReport.plot("held-out", rows);
    var img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(720, img.getWidth());
    assertTrue(img.getHeight() >= 400);
  }

  private static List<Double> doubles(java.util.Collection<? extends Number> xs) {
    List<Double> out = new ArrayList<>();
    for (Number x : xs) out.add(x == null ? null : x.doubleValue());
    return out;
  }
}
