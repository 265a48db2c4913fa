package dev.flantune.report;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The report's statistics against {@code scripts/reference/significance_ref.py} (exact binomial
 * sums with Python's integers, the same SplitMix64 draws), and against values known by hand.
 */
class SignificanceTest {
  static final JsonNode REF;

  static {
    try {
      REF =
          new ObjectMapper()
              .readTree(Path.of("src/test/resources/significance/reference.json").toFile());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void mcnemarExactMatchesTheBinomialReference() {
    for (JsonNode c : REF.get("mcnemar")) {
      double p = Significance.mcnemarP(c.get("b").asInt(), c.get("c").asInt());
      assertEquals(c.get("p").asDouble(), p, 1e-12 + 1e-9 * c.get("p").asDouble(), c.toString());
    }
    // By hand: 10 vs 2 discordant pairs, 2 · (1 + 12 + 66) / 4096.
    assertEquals(2.0 * 79 / 4096, Significance.mcnemarP(10, 2), 1e-15);
    boolean[] tuned = {true, true, true, false, true, false};
    boolean[] base = {false, false, true, false, false, true};
    Significance.Test t = Significance.mcnemarExact(tuned, base);
    assertEquals(Significance.mcnemarP(3, 1), t.p(), 0);
    assertEquals(100.0 * 2 / 6, t.delta(), 1e-12);
    assertFalse(t.significant());
  }

  @Test
  void wilsonMatchesTheFormula() {
    for (JsonNode c : REF.get("wilson")) {
      Significance.Interval i = Significance.wilson(c.get("correct").asInt(), c.get("n").asInt());
      assertEquals(c.get("interval").get(0).asDouble(), i.low(), 1e-9, c.toString());
      assertEquals(c.get("interval").get(1).asDouble(), i.high(), 1e-9, c.toString());
    }
    assertFalse(Significance.wilson(0, 0).exists());
  }

  @Test
  void bootstrapIntervalsMatchTheReferenceDraws() {
    for (JsonNode c : REF.get("bootstrap")) {
      Significance.Interval i =
          Significance.bootstrap(strata(c.get("strata")), c.get("seed").asLong());
      assertEquals(c.get("interval").get(0).asDouble(), i.low(), 1e-9, c.get("seed").toString());
      assertEquals(c.get("interval").get(1).asDouble(), i.high(), 1e-9);
      assertTrue(i.low() < i.high());
    }
    // A constant score has a zero-width interval; a task with no scored example has none.
    double[] same = {50, 50, 50};
    assertEquals(new Significance.Interval(50, 50), Significance.bootstrap(List.of(same), 1));
    assertFalse(
        Significance.bootstrap(List.of(new double[] {Double.NaN}), 1).exists(), "nothing to draw");
  }

  @Test
  void pairedBootstrapMatchesTheReferenceAndSeparatesARealGainFromNoise() {
    List<Double> ps = new ArrayList<>();
    for (JsonNode c : REF.get("paired")) {
      Significance.Test t =
          Significance.pairedBootstrap(
              strata(c.get("tuned")), strata(c.get("base")), c.get("seed").asLong());
      assertEquals(c.get("delta").asDouble(), t.delta(), 1e-9);
      assertEquals(c.get("p").asDouble(), t.p(), 1e-12);
      ps.add(t.p());
    }
    assertTrue(ps.get(0) < 0.05 && ps.get(1) > 0.05, ps.toString());
    // Identical models: Δ = 0 and p = 1.
    double[] x = {0, 100, 100, 0};
    Significance.Test none = Significance.pairedBootstrap(List.of(x), List.of(x.clone()), 0);
    assertEquals(0, none.delta(), 0);
    assertEquals(1.0, none.p(), 0);
  }

  private static List<double[]> strata(JsonNode array) {
    List<double[]> out = new ArrayList<>();
    for (JsonNode s : array) {
      double[] v = new double[s.size()];
      for (int i = 0; i < v.length; i++)
        v[i] = s.get(i).isNull() ? Double.NaN : s.get(i).asDouble();
      out.add(v);
    }
    return out;
  }
}
