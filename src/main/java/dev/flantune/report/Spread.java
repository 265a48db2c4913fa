package dev.flantune.report;

import java.util.List;

/**
 * A score's spread across templates: FLAN's claim is robustness to phrasing, so the std and range
 * are part of the result, not a footnote. The std is the population std (numpy's default, ddof 0):
 * the templates are the whole set being described, not a sample of one.
 */
public record Spread(double mean, double std, double min, double max, int count) {

  public static Spread of(List<Double> values) {
    List<Double> v = values.stream().filter(x -> !Double.isNaN(x)).toList();
    if (v.isEmpty()) return new Spread(Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0);
    double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    double mean = sum / v.size();
    double sq = 0;
    for (double x : v) sq += (x - mean) * (x - mean);
    return new Spread(mean, Math.sqrt(sq / v.size()), min, max, v.size());
  }
}
