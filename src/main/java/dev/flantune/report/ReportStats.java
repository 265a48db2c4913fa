package dev.flantune.report;

import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.Measure;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import dev.flantune.report.Significance.Interval;
import dev.flantune.report.Significance.Test;
import java.util.ArrayList;
import java.util.List;

/**
 * The intervals and paired tests of a report's scores (see {@link Significance} for the methods),
 * computed from the per-example scores with the evaluation's seed, so every rendering of a report
 * shows the same numbers.
 */
public final class ReportStats {
  private final long seed;

  public ReportStats(EvalReport r) {
    this.seed = r.provenance().seed();
  }

  /** Right/wrong per example: accuracy-like, so Wilson and McNemar apply to one template. */
  static boolean binary(TaskResult t, Measure m) {
    return m != Measure.SCORE || t.metric().equals("accuracy") || t.metric().equals("exact_match");
  }

  /** Whether a task has this measure at all (generation is measured on classification tasks). */
  public static boolean measured(TaskResult t, String model, Measure m) {
    for (TemplateScore s : t.scores(model).templates())
      if (!Double.isNaN(m.summary(s)) && m.of(s).length > 0) return true;
    return false;
  }

  /** Whether any task of the cluster has this measure (for the tuned model). */
  public static boolean measuredIn(ClusterResult c, Measure m) {
    for (TaskResult t : c.tasks()) if (measured(t, EvalReport.TUNED, m)) return true;
    return false;
  }

  /** One template's 95% interval: Wilson for right/wrong scores, else the bootstrap. */
  public Interval template(TaskResult t, TemplateScore s, Measure m) {
    if (m.of(s).length == 0) return Interval.NONE;
    if (binary(t, m)) return Significance.wilson(s.correct(m), s.scored(m));
    return Significance.bootstrap(List.of(m.of(s)), seed);
  }

  /** One template's base-vs-tuned test: McNemar on the shared examples, else paired bootstrap. */
  public Test template(TaskResult t, int index, Measure m) {
    double[] tuned = m.of(t.scores(EvalReport.TUNED).templates().get(index));
    double[] base = m.of(t.scores(EvalReport.BASE).templates().get(index));
    if (tuned.length == 0 || tuned.length != base.length) return Test.NONE;
    if (!binary(t, m)) return Significance.pairedBootstrap(List.of(tuned), List.of(base), seed);
    List<Boolean> a = new ArrayList<>(), b = new ArrayList<>();
    for (int i = 0; i < tuned.length; i++) {
      if (Double.isNaN(tuned[i]) || Double.isNaN(base[i])) continue;
      a.add(tuned[i] == 100);
      b.add(base[i] == 100);
    }
    boolean[] x = new boolean[a.size()], y = new boolean[b.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = a.get(i);
      y[i] = b.get(i);
    }
    return Significance.mcnemarExact(x, y);
  }

  /** A task's 95% interval: the bootstrap over its examples (templates kept together). */
  public Interval task(TaskResult t, String model, Measure m) {
    if (!measured(t, model, m)) return Interval.NONE;
    return Significance.bootstrap(List.of(t.scores(model).perExample(m)), seed);
  }

  /** A task's base-vs-tuned test: the paired bootstrap over its examples. */
  public Test task(TaskResult t, Measure m) {
    if (!measured(t, EvalReport.TUNED, m) || !measured(t, EvalReport.BASE, m)) return Test.NONE;
    return Significance.pairedBootstrap(
        List.of(t.scores(EvalReport.TUNED).perExample(m)),
        List.of(t.scores(EvalReport.BASE).perExample(m)),
        seed);
  }

  /**
   * A cluster's 95% interval: each task's examples resampled separately, tasks averaged as the
   * cluster score is. Tasks without the measure (generation tasks for generative accuracy) are left
   * out, as they are from {@link #clusterMean}.
   */
  public Interval cluster(ClusterResult c, String model, Measure m) {
    List<double[]> strata = strata(c, model, m);
    return strata.isEmpty() ? Interval.NONE : Significance.bootstrap(strata, seed);
  }

  public Test cluster(ClusterResult c, Measure m) {
    List<double[]> tuned = strata(c, EvalReport.TUNED, m), base = strata(c, EvalReport.BASE, m);
    if (tuned.isEmpty() || tuned.size() != base.size()) return Test.NONE;
    return Significance.pairedBootstrap(tuned, base, seed);
  }

  /** The mean over the cluster's tasks that have the measure (for SCORE: the cluster score). */
  public static double clusterMean(ClusterResult c, String model, Measure m) {
    if (m == Measure.SCORE) return c.mean(model);
    List<Double> means = new ArrayList<>();
    for (TaskResult t : c.tasks()) {
      if (!measured(t, model, m)) continue;
      ModelScores s = t.scores(model);
      means.add(m == Measure.GENERATIVE ? s.generative().mean() : s.optionRate().mean());
    }
    return Spread.of(means).mean();
  }

  private static List<double[]> strata(ClusterResult c, String model, Measure m) {
    List<double[]> out = new ArrayList<>();
    for (TaskResult t : c.tasks()) {
      if (m != Measure.SCORE && !measured(t, model, m)) continue;
      double[] v = t.scores(model).perExample(m);
      if (v.length == 0) return List.of(); // a task without per-example scores: no interval
      out.add(v);
    }
    return out;
  }
}
