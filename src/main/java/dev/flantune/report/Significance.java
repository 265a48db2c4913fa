package dev.flantune.report;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The statistics behind the report's intervals and p-values, written out so that a reference script
 * ({@code scripts/reference/significance_ref.py}) reproduces every number exactly.
 *
 * <ul>
 *   <li>Task and cluster intervals: percentile bootstrap over <em>examples</em>. An example's score
 *       is its mean over the templates (templates of one example are correlated, so they are
 *       resampled together, never as independent draws); a cluster resamples each task's examples
 *       separately (stratified) and averages the task means, as the cluster score does.
 *   <li>Per-template intervals for accuracy: Wilson's score interval (one template's examples are
 *       independent Bernoulli trials).
 *   <li>Base vs tuned: McNemar's exact test on one template's examples (accuracy), and a paired
 *       bootstrap over examples for a task's or cluster's Δ (any metric): the differences are
 *       resampled, recentred on the observed Δ (the null), and p = (1 + #{|Δ* − Δ| ≥ |Δ|}) / (B +
 *       1).
 * </ul>
 *
 * <p>The resampling draws from SplitMix64 (Steele et al., 2014) with an index {@code unsigned(x)
 * mod n}, so the Python reference draws the same indices; quantiles interpolate linearly between
 * order statistics (numpy's default).
 */
public final class Significance {
  /** Bootstrap resamples: p-values resolve to 1/1001, enough to call p < 0.05. */
  public static final int RESAMPLES = 1000;

  public static final double Z95 = 1.959963984540054;

  private Significance() {}

  /** A two-sided 95% interval; NaN ends when there is nothing to resample. */
  public record Interval(double low, double high) {
    public static final Interval NONE = new Interval(Double.NaN, Double.NaN);

    public boolean exists() {
      return !Double.isNaN(low) && !Double.isNaN(high);
    }
  }

  /** A paired comparison: the observed tuned − base difference and its two-sided p-value. */
  public record Test(String name, double delta, double p) {
    public static final Test NONE = new Test("none", Double.NaN, Double.NaN);

    public boolean significant() {
      return p < 0.05;
    }
  }

  /**
   * The bootstrap interval of a mean of task means; {@code strata} holds one array of per-example
   * scores per task (NaN entries, examples without a score, are dropped first).
   */
  public static Interval bootstrap(List<double[]> strata, long seed) {
    List<double[]> clean = new ArrayList<>();
    for (double[] s : strata) {
      double[] c = finite(s);
      if (c.length == 0) return Interval.NONE;
      clean.add(c);
    }
    if (clean.isEmpty()) return Interval.NONE;
    double[] stats = resampledMeans(clean, seed);
    return new Interval(quantile(stats, 0.025), quantile(stats, 0.975));
  }

  /**
   * The paired bootstrap test of tuned − base: per stratum (task) the per-example differences; an
   * example missing from either model (NaN) is dropped.
   */
  public static Test pairedBootstrap(List<double[]> tuned, List<double[]> base, long seed) {
    List<double[]> diffs = new ArrayList<>();
    for (int s = 0; s < tuned.size(); s++) {
      double[] t = tuned.get(s), b = base.get(s);
      double[] d = new double[t.length];
      int k = 0;
      for (int i = 0; i < t.length; i++)
        if (!Double.isNaN(t[i]) && !Double.isNaN(b[i])) d[k++] = t[i] - b[i];
      if (k == 0) return Test.NONE;
      diffs.add(Arrays.copyOf(d, k));
    }
    if (diffs.isEmpty()) return Test.NONE;
    double observed = meanOfMeans(diffs);
    double[] stats = resampledMeans(diffs, seed);
    int extreme = 0;
    for (double x : stats) if (Math.abs(x - observed) >= Math.abs(observed) - 1e-12) extreme++;
    return new Test("paired_bootstrap", observed, (1.0 + extreme) / (stats.length + 1.0));
  }

  /**
   * McNemar's exact test on paired right/wrong outcomes: with b examples only tuned got right and c
   * only base got right, p = min(1, 2·P(X ≤ min(b, c))), X ~ Binomial(b + c, ½).
   */
  public static Test mcnemarExact(boolean[] tuned, boolean[] base) {
    int b = 0, c = 0, n = 0;
    for (int i = 0; i < tuned.length; i++) {
      if (tuned[i] && !base[i]) b++;
      if (!tuned[i] && base[i]) c++;
      n++;
    }
    if (n == 0) return Test.NONE;
    return new Test("mcnemar_exact", 100.0 * (b - c) / n, mcnemarP(b, c));
  }

  /** The exact two-sided McNemar p-value for b and c discordant pairs. */
  public static double mcnemarP(int b, int c) {
    int n = b + c;
    if (n == 0) return 1.0;
    int k = Math.min(b, c);
    // Σ_{i ≤ k} C(n, i) / 2^n, in logs so that large n neither underflows nor overflows.
    double logTerm = -n * Math.log(2), tail = 0;
    for (int i = 0; i <= k; i++) {
      if (i > 0) logTerm += Math.log(n - i + 1) - Math.log(i);
      tail += Math.exp(logTerm);
    }
    return Math.min(1.0, 2 * tail);
  }

  /** Wilson's 95% score interval for {@code correct} successes out of {@code n}, in percent. */
  public static Interval wilson(int correct, int n) {
    if (n == 0) return Interval.NONE;
    double p = (double) correct / n, z2 = Z95 * Z95;
    double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    double half = Z95 / (1 + z2 / n) * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
    return new Interval(100 * (centre - half), 100 * (centre + half));
  }

  /** B resampled statistics: each stratum resampled with replacement, the mean of its means. */
  private static double[] resampledMeans(List<double[]> strata, long seed) {
    SplitMix64 rng = new SplitMix64(seed);
    double[] out = new double[RESAMPLES];
    for (int b = 0; b < RESAMPLES; b++) {
      double sum = 0;
      for (double[] s : strata) {
        double t = 0;
        for (int i = 0; i < s.length; i++) t += s[rng.below(s.length)];
        sum += t / s.length;
      }
      out[b] = sum / strata.size();
    }
    Arrays.sort(out);
    return out;
  }

  private static double meanOfMeans(List<double[]> strata) {
    double sum = 0;
    for (double[] s : strata) sum += Arrays.stream(s).average().orElse(Double.NaN);
    return sum / strata.size();
  }

  /** The q-quantile of sorted values, interpolating linearly (numpy's default method). */
  static double quantile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  private static double[] finite(double[] v) {
    return Arrays.stream(v).filter(x -> !Double.isNaN(x)).toArray();
  }

  /** SplitMix64: a tiny generator a reference script can reproduce bit for bit. */
  static final class SplitMix64 {
    private long state;

    SplitMix64(long seed) {
      this.state = seed;
    }

    long next() {
      long z = (state += 0x9E3779B97F4A7C15L);
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    int below(int n) {
      return (int) Long.remainderUnsigned(next(), n);
    }
  }
}
