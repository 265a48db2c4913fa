package dev.flantune.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.EvalReport.TemplateScore;

/**
 * {@code report.json}: per cluster, per task, for each model the per-template scores and their
 * mean, std, min and max, plus the tuned − base delta; and the provenance. Numbers that do not
 * exist (a delta without a base, a norm variant of a generation task) are JSON null, never NaN.
 */
public final class ReportJson {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ReportJson() {}

  public static String render(EvalReport r) {
    ObjectNode root = JSON.createObjectNode();
    root.put("format", EvalReport.FORMAT);
    root.put("scale", "percent (0-100) for every metric");
    ArrayNode models = root.putArray("models");
    r.models().forEach(models::add);
    root.set("provenance", provenance(r.provenance()));
    ArrayNode clusters = root.putArray("clusters");
    for (ClusterResult c : r.clusters()) clusters.add(cluster(r, c));
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

  private static ObjectNode cluster(EvalReport r, ClusterResult c) {
    ObjectNode o = JSON.createObjectNode();
    o.put("name", c.name());
    ObjectNode mean = o.putObject("mean");
    for (String m : r.models()) num(mean, m, c.mean(m));
    if (r.compared()) num(mean, "delta", c.mean(EvalReport.TUNED) - c.mean(EvalReport.BASE));
    ArrayNode tasks = o.putArray("tasks");
    for (TaskResult t : c.tasks()) tasks.add(task(r, t));
    return o;
  }

  private static ObjectNode task(EvalReport r, TaskResult t) {
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
    for (String m : r.models()) o.set(m, model(t.scores(m), classification));
    if (r.compared()) {
      ObjectNode d = spread(t.delta());
      ArrayNode per = d.putArray("per_template");
      t.deltas().forEach(v -> per.add(v));
      o.set("delta", d);
    }
    return o;
  }

  private static ObjectNode model(ModelScores s, boolean classification) {
    ObjectNode o = spread(s.spread());
    ArrayNode per = o.putArray("per_template");
    for (TemplateScore ts : s.templates()) {
      ObjectNode p = per.addObject();
      p.put("template", ts.template()).put("n", ts.n()).put("skipped_examples", ts.skipped());
      num(p, "score", ts.score());
      if (classification) {
        num(p, "acc_norm_token", ts.accNormToken());
        num(p, "acc_norm_char", ts.accNormChar());
      }
    }
    if (classification) {
      o.set("acc_norm_token", spread(s.accNormToken()));
      o.set("acc_norm_char", spread(s.accNormChar()));
    }
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
