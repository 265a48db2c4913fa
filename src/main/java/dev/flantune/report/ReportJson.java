package dev.flantune.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.Measure;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;
import java.util.List;

/**
 * {@code report.json}: per cluster, per task, for each model the per-template scores and their
 * mean, std, min and max, plus the tuned − base delta; and the provenance. Numbers that do not
 * exist (a delta without a base, a norm variant of a generation task) are JSON null, never NaN.
 *
 * <p>Every score has a {@code ci95} (see {@link ReportStats}) and every delta a {@code test} and
 * {@code p}; classification tasks evaluated with generation add {@code generative_accuracy} and
 * {@code option_rate} beside rank classification, with their own intervals, deltas and p-values.
 */
public final class ReportJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReportJson() {}

  public static String render(EvalReport r) {
    ReportStats stats = new ReportStats(r);
    ObjectNode root = JSON.createObjectNode();
    root.put("format", EvalReport.FORMAT);
    root.put("scale", "percent (0-100) for every metric");
    ArrayNode models = root.putArray("models");
    r.models().forEach(models::add);
    root.set("provenance", provenance(r.provenance()));
    ArrayNode clusters = root.putArray("clusters");
    for (ClusterResult c : r.clusters()) clusters.add(cluster(r, c, stats));
    ObjectNode speed = root.putObject("throughput");
    r.throughput()
        .forEach(
            (role, t) -> {
              ObjectNode o = speed.putObject(role);
              o.put("evaluations", t.evaluations());
              o.put("seconds", t.seconds());
              num(o, "evaluations_per_s", t.perSecond());
            });
    ContaminationTables.json(r, root);
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode provenance(EvalReport.Provenance p) {
    ObjectNode o = JSON.createObjectNode();
    o.put("date", p.date())
        .put("seed", p.seed())
        .put("shots", p.shots())
        .put("split", p.split())
        .put("max_examples", p.maxExamples())
        .put("tasks", p.tasks());
    ArrayNode held = o.putArray("held_out");
    p.heldOut().forEach(held::add);
    ObjectNode models = o.putObject("models");
    for (EvalReport.ModelRef m : p.models())
      models.putObject(m.role()).put("path", m.path()).put("sha256", m.sha256());
    ObjectNode env = o.putObject("environment");
    p.environment().forEach(env::put);
    return o;
  }

  private static ObjectNode cluster(EvalReport r, ClusterResult c, ReportStats stats) {
    ObjectNode o = JSON.createObjectNode();
    o.put("name", c.name());
    ObjectNode mean = o.putObject("mean");
    for (String m : r.models()) num(mean, m, c.mean(m));
    if (r.compared()) num(mean, "delta", c.mean(EvalReport.TUNED) - c.mean(EvalReport.BASE));
    ObjectNode ci = o.putObject("ci95");
    for (String m : r.models()) ci.set(m, interval(stats.cluster(c, m, Measure.SCORE)));
    if (r.compared()) o.set("delta_test", test(stats.cluster(c, Measure.SCORE)));
    for (Measure g : List.of(Measure.GENERATIVE, Measure.OPTION_RATE)) {
      if (!ReportStats.measuredIn(c, g)) continue;
      ObjectNode x = o.putObject(key(g));
      for (String m : r.models()) {
        num(x, m, ReportStats.clusterMean(c, m, g));
        x.set(m + "_ci95", interval(stats.cluster(c, m, g)));
      }
      if (r.compared()) {
        num(
            x,
            "delta",
            ReportStats.clusterMean(c, EvalReport.TUNED, g)
                - ReportStats.clusterMean(c, EvalReport.BASE, g));
        x.set("delta_test", test(stats.cluster(c, g)));
      }
    }
    ArrayNode tasks = o.putArray("tasks");
    for (TaskResult t : c.tasks()) tasks.add(task(r, t, stats));
    return o;
  }

  static String key(Measure g) {
    return g == Measure.GENERATIVE ? "generative_accuracy" : "option_rate";
  }

  private static ObjectNode task(EvalReport r, TaskResult t, ReportStats stats) {
    ObjectNode o = JSON.createObjectNode();
    o.put("task", t.task())
        .put("cluster", t.cluster())
        .put("kind", t.kind())
        .put("metric", t.metric())
        .put("n_examples", t.nExamples());
    ArrayNode templates = o.putArray("templates");
    t.scores(EvalReport.TUNED).templates().forEach(s -> templates.add(s.template()));
    ArrayNode skipped = o.putArray("skipped_templates");
    t.skipped()
        .forEach(s -> skipped.addObject().put("template", s.template()).put("reason", s.reason()));
    boolean classification = t.kind().equals("classification");
    for (String m : r.models()) o.set(m, model(t, m, classification, stats));
    if (r.compared()) {
      ObjectNode d = spread(t.delta());
      ArrayNode per = d.putArray("per_template");
      t.deltas().forEach(v -> per.add(v));
      Significance.Test test = stats.task(t, Measure.SCORE);
      d.put("test", test.name());
      num(d, "p", test.p());
      ArrayNode perP = d.putArray("per_template_p");
      ArrayNode perTest = d.putArray("per_template_test");
      for (int i = 0; i < t.scores(EvalReport.TUNED).templates().size(); i++) {
        Significance.Test ti = stats.template(t, i, Measure.SCORE);
        perP.add(Double.isNaN(ti.p()) ? null : JSON.getNodeFactory().numberNode(ti.p()));
        perTest.add(ti.name());
      }
      for (Measure g : List.of(Measure.GENERATIVE, Measure.OPTION_RATE)) {
        if (!ReportStats.measured(t, EvalReport.TUNED, g)) continue;
        ObjectNode x = d.putObject(key(g));
        num(
            x,
            "mean",
            t.scores(EvalReport.TUNED).perTemplateMean(g)
                - t.scores(EvalReport.BASE).perTemplateMean(g));
        x.setAll(test(stats.task(t, g)));
      }
      o.set("delta", d);
    }
    return o;
  }

  private static ObjectNode model(
      TaskResult t, String model, boolean classification, ReportStats stats) {
    ModelScores s = t.scores(model);
    ObjectNode o = spread(s.spread());
    o.set("ci95", interval(stats.task(t, model, Measure.SCORE)));
    ArrayNode per = o.putArray("per_template");
    boolean generated = ReportStats.measured(t, model, Measure.GENERATIVE);
    for (TemplateScore ts : s.templates()) {
      ObjectNode p = per.addObject();
      p.put("template", ts.template()).put("n", ts.n()).put("skipped_examples", ts.skipped());
      num(p, "score", ts.score());
      p.set("ci95", interval(stats.template(t, ts, Measure.SCORE)));
      if (classification) {
        num(p, "acc_norm_token", ts.accNormToken());
        num(p, "acc_norm_char", ts.accNormChar());
      }
      if (generated) {
        num(p, "generative_accuracy", ts.generative());
        num(p, "option_rate", ts.optionRate());
      }
    }
    if (classification) {
      o.set("acc_norm_token", spread(s.accNormToken()));
      o.set("acc_norm_char", spread(s.accNormChar()));
    }
    if (generated) {
      for (Measure g : List.of(Measure.GENERATIVE, Measure.OPTION_RATE)) {
        ObjectNode x = spread(g == Measure.GENERATIVE ? s.generative() : s.optionRate());
        x.set("ci95", interval(stats.task(t, model, g)));
        o.set(key(g), x);
      }
    }
    return o;
  }

  /** [low, high], or null when there is no interval. */
  private static com.fasterxml.jackson.databind.JsonNode interval(Significance.Interval i) {
    if (!i.exists()) return JSON.getNodeFactory().nullNode();
    ArrayNode a = JSON.createArrayNode();
    a.add(i.low());
    a.add(i.high());
    return a;
  }

  private static ObjectNode test(Significance.Test t) {
    ObjectNode o = JSON.createObjectNode();
    o.put("test", t.name());
    num(o, "p", t.p());
    o.put("significant", t.significant());
    return o;
  }

  private static ObjectNode spread(Spread s) {
    ObjectNode o = JSON.createObjectNode();
    num(o, "mean", s.mean());
    num(o, "std", s.std());
    num(o, "min", s.min());
    num(o, "max", s.max());
    return o;
  }

  private static void num(ObjectNode o, String key, double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) o.putNull(key);
    else o.put(key, v);
  }
}
