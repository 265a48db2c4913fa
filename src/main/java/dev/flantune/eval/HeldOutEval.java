package dev.flantune.eval;

import dev.flantune.data.ChatFormat;
import dev.flantune.eval.contamination.ContaminationSources;
import dev.flantune.eval.contamination.Screening;
import dev.flantune.model.CausalLm;
import dev.flantune.report.Contamination;
import dev.flantune.report.EvalReport;
import dev.flantune.report.EvalReport.ClusterResult;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.TaskResult;
import dev.flantune.report.Reports;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.ExemplarPool;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Held-out evaluation (FLAN protocol), callable from the CLI and at the end of a training run:
 * every template of every task of the held-out clusters, on the same examples, zero- or k-shot;
 * tuned and optionally base side by side. Writes {@code predictions.jsonl} (streamed), {@code
 * report.json}, {@code report.md} and {@code report.html} into the output directory and returns the
 * report.
 */
public final class HeldOutEval {
  private HeldOutEval() {}

  /**
   * What to evaluate and how.
   *
   * @param maxExamples examples per task (the same for each template), sampled with {@code seed}
   * @param batchSize sequences per forward pass when ranking options
   * @param maxNewTokensCap generation stops after min(this, 2 × the longest reference's tokens)
   * @param maxLength sequences are truncated to this many tokens as in training; 0 = the model's
   *     n_positions
   * @param render how examples become text (options format, separator); {@code shots} and {@code
   *     seed} above are applied to it
   * @param generative also answer classification tasks by greedy generation (generative accuracy
   *     and option rate beside rank classification)
   */
  public record Settings(
      List<String> heldOut,
      int shots,
      Task.Split split,
      int maxExamples,
      int batchSize,
      long seed,
      int maxNewTokensCap,
      int maxLength,
      RenderOptions render,
      boolean generative) {
    public static final int MAX_NEW_TOKENS_CAP = 64;

    public Settings {
      heldOut = List.copyOf(heldOut);
      if (heldOut.isEmpty()) throw FlanTuneException.badUsage("name at least one held-out cluster");
      if (shots < 0) throw FlanTuneException.badUsage("shots must be >= 0, got " + shots);
      if (maxExamples < 1)
        throw FlanTuneException.badUsage("max examples must be >= 1, got " + maxExamples);
      if (batchSize < 1)
        throw FlanTuneException.badUsage("batch size must be >= 1, got " + batchSize);
      if (maxNewTokensCap < 1)
        throw FlanTuneException.badUsage("max new tokens must be >= 1, got " + maxNewTokensCap);
      if (maxLength < 0)
        throw FlanTuneException.badUsage("max length must be >= 0, got " + maxLength);
      render = render.withSeed(seed).withShots(shots);
    }

    /** The same settings drawing prompts with {@code r} (its shots and seed are these). */
    public Settings withRender(RenderOptions r) {
      return new Settings(
          heldOut,
          shots,
          split,
          maxExamples,
          batchSize,
          seed,
          maxNewTokensCap,
          maxLength,
          r,
          generative);
    }

    /**
     * FLAN's rendering defaults, the model's full context, a cap of 64 new tokens, rank
     * classification only.
     */
    public static Settings of(
        List<String> heldOut,
        int shots,
        Task.Split split,
        int maxExamples,
        int batchSize,
        long seed) {
      return new Settings(
          heldOut,
          shots,
          split,
          maxExamples,
          batchSize,
          seed,
          MAX_NEW_TOKENS_CAP,
          0,
          RenderOptions.DEFAULTS,
          false);
    }
  }

  /** Exemplars are drawn from a seeded sample of this many train examples per task. */

  /**
   * Runs the evaluation. {@code base} may be null (tuned only). Fails with a bad-usage error (exit
   * 2) naming the known clusters when a held-out cluster does not exist, before any model runs.
   */
  public static EvalReport run(
      Settings s,
      EvaluatedModel tuned,
      EvaluatedModel base,
      Tokenizer tok,
      TaskRegistry registry,
      Path outDir,
      PrintWriter progress)
      throws IOException {
    return run(s, tuned, base, tok, registry, outDir, progress, Checks.NONE);
  }

  /**
   * What the report should establish beyond the scores.
   *
   * @param rendering the options format in {@code s.render()}, by name, and what chose it; and the
   *     prompt format (chat_template: prompts through the tokenizer's chat template)
   * @param contamination what to check the held-out examples against; null: no check
   */
  public record Checks(EvalReport.Rendering rendering, ContaminationSources contamination) {
    public static final Checks NONE = new Checks(EvalReport.Rendering.DEFAULT, null);
  }

  /**
   * {@link #run(Settings, EvaluatedModel, EvaluatedModel, Tokenizer, TaskRegistry, Path,
   * PrintWriter)}, with a contamination check and the rendering stated in the report.
   */
  public static EvalReport run(
      Settings s,
      EvaluatedModel tuned,
      EvaluatedModel base,
      Tokenizer tok,
      TaskRegistry registry,
      Path outDir,
      PrintWriter progress,
      Checks checks)
      throws IOException {
    Map<String, List<Task>> clusters = heldOutTasks(s, registry);
    Map<String, EvaluatedModel> models = new LinkedHashMap<>();
    models.put(EvalReport.TUNED, tuned);
    if (base != null) models.put(EvalReport.BASE, base);
    for (Map.Entry<String, EvaluatedModel> m : models.entrySet())
      checkVocabulary(m.getKey(), m.getValue().lm(), tok);
    Files.createDirectories(outDir);

    Renderer renderer = new Renderer(s.render(), text -> tok.encode(text).length);
    ChatFormat chat =
        checks.rendering().chatTemplate()
            ? ChatFormat.of(
                tok,
                "prompt format chat_template (" + checks.rendering().promptChosenBy() + ")",
                "evaluate with --prompt-format plain, or add the model's chat template to that file")
            : null;
    Map<String, TaskEvaluator> evaluators = new LinkedHashMap<>();
    Map<String, Double> seconds = new LinkedHashMap<>();
    List<ClusterResult> results = new ArrayList<>();
    // The examples, chosen once per task; the contamination check sees them before any model runs.
    Map<String, List<EvalExamples.Item>> chosen = new LinkedHashMap<>();
    for (List<Task> tasks : clusters.values())
      for (Task task : tasks)
        chosen.put(task.name(), EvalExamples.select(task, s.split(), s.maxExamples(), s.seed()));
    Screening screening = null;
    if (checks.contamination() != null) {
      Map<String, List<Example>> examples = new LinkedHashMap<>();
      chosen.forEach(
          (task, items) ->
              examples.put(task, items.stream().map(EvalExamples.Item::example).toList()));
      screening = Screening.run(checks.contamination(), examples, progress);
    }
    Map<String, Contamination.TaskContamination> contamination = new LinkedHashMap<>();
    try (PredictionWriter predictions = new PredictionWriter(outDir.resolve(Reports.PREDICTIONS))) {
      for (Map.Entry<String, EvaluatedModel> m : models.entrySet()) {
        CausalLm lm = m.getValue().lm();
        int maxLength =
            s.maxLength() == 0
                ? lm.config().nPositions()
                : Math.min(s.maxLength(), lm.config().nPositions());
        evaluators.put(
            m.getKey(),
            new TaskEvaluator(
                m.getKey(),
                new RankClassifier(lm, tok, maxLength, s.batchSize(), chat),
                chat == null
                    ? new GreedyAnswerer(lm, tok, maxLength)
                    : new ChatAnswerer(lm, tok, chat, maxLength),
                renderer,
                predictions,
                s.maxNewTokensCap(),
                s.generative(),
                chat));
        seconds.put(m.getKey(), 0.0);
      }
      for (Map.Entry<String, List<Task>> cluster : clusters.entrySet()) {
        List<TaskResult> tasks = new ArrayList<>();
        for (Task task : cluster.getValue()) {
          List<EvalExamples.Item> items = chosen.get(task.name());
          List<List<Example>> exemplars = exemplars(task, items, s);
          boolean[] clean = screening == null ? null : screening.clean().get(task.name());
          Map<String, ModelScores> byModel = new LinkedHashMap<>();
          Map<String, Double> cleanMeans = new LinkedHashMap<>();
          for (Map.Entry<String, TaskEvaluator> e : evaluators.entrySet()) {
            long t0 = System.nanoTime();
            long before = e.getValue().evaluations();
            TaskEvaluator.Scored scored = e.getValue().evaluate(task, items, exemplars, clean);
            ModelScores scores = scored.all();
            if (scored.clean() != null) cleanMeans.put(e.getKey(), scored.clean().spread().mean());
            double secs = (System.nanoTime() - t0) / 1e9;
            seconds.merge(e.getKey(), secs, Double::sum);
            byModel.put(e.getKey(), scores);
            double generative = scores.generative().mean();
            progress.printf(
                "eval %-5s %s/%s: %s %.1f%s (templates %s) · %d evaluations in %.1fs%n",
                e.getKey(),
                cluster.getKey(),
                task.name(),
                task.kind() == Task.Kind.CLASSIFICATION ? "accuracy" : task.metric().yamlName(),
                scores.spread().mean(),
                Double.isNaN(generative)
                    ? ""
                    : String.format(
                        java.util.Locale.ROOT,
                        ", generative %.1f, option rate %.1f",
                        generative,
                        scores.optionRate().mean()),
                TaskEvaluator.evaluated(task),
                e.getValue().evaluations() - before,
                secs);
            progress.flush();
          }
          if (screening != null) {
            contamination.put(
                task.name(), taskContamination(clean, screening, task, byModel, cleanMeans));
          }
          tasks.add(
              new TaskResult(
                  task.name(),
                  task.cluster(),
                  task.kind().yamlName(),
                  task.kind() == Task.Kind.CLASSIFICATION ? "accuracy" : task.metric().yamlName(),
                  items.size(),
                  TaskEvaluator.skipped(task),
                  byModel));
        }
        results.add(new ClusterResult(cluster.getKey(), tasks));
      }
    }
    Map<String, EvalReport.Throughput> throughput = new LinkedHashMap<>();
    evaluators.forEach(
        (role, ev) ->
            throughput.put(role, new EvalReport.Throughput(ev.evaluations(), seconds.get(role))));
    Contamination checked =
        screening == null
            ? null
            : new Contamination(
                screening.ngram(),
                screening.sources(),
                screening.notes(),
                screening.seconds(),
                screening.bytes(),
                contamination);
    EvalReport report =
        new EvalReport(
            List.copyOf(models.keySet()),
            provenance(s, models, registry),
            results,
            throughput,
            checks.rendering(),
            checked);
    Reports.writeAll(report, outDir, tuned.dir());
    return report;
  }

  private static Contamination.TaskContamination taskContamination(
      boolean[] clean,
      Screening screening,
      Task task,
      Map<String, ModelScores> byModel,
      Map<String, Double> cleanMeans) {
    int dirty = 0;
    for (boolean c : clean) if (!c) dirty++;
    Map<String, Double> full = new LinkedHashMap<>();
    byModel.forEach((role, sc) -> full.put(role, sc.spread().mean()));
    return new Contamination.TaskContamination(
        clean.length, dirty, screening.bySource().get(task.name()), full, cleanMeans);
  }

  /**
   * The held-out clusters' tasks, cluster by cluster in the order named; unknown names are refused.
   */
  public static Map<String, List<Task>> heldOutTasks(Settings s, TaskRegistry registry) {
    Map<String, List<Task>> all = registry.clusters();
    Map<String, List<Task>> out = new LinkedHashMap<>();
    for (String name : s.heldOut()) {
      List<Task> tasks = all.get(name);
      if (tasks == null) {
        throw FlanTuneException.badUsage(
            "held-out cluster '"
                + name
                + "' is not in "
                + registry.root()
                + "; known clusters: "
                + String.join(", ", all.keySet()));
      }
      for (Task t : tasks) {
        if (!t.hasSplit(s.split())) {
          throw FlanTuneException.badUsage(
              "task "
                  + t.name()
                  + " (cluster "
                  + name
                  + ") has no "
                  + s.split().yamlName()
                  + " split ("
                  + t.yaml()
                  + "); evaluate with --split train or add that split");
        }
      }
      out.put(name, tasks);
    }
    return out;
  }

  private static void checkVocabulary(String role, CausalLm lm, Tokenizer tok) {
    if (lm.config().vocabSize() < tok.vocabSize()) {
      throw FlanTuneException.badInput(
          (lm.source() == null ? role + " model" : lm.source().toString())
              + ": vocab_size "
              + lm.config().vocabSize()
              + " is smaller than the tokenizer's "
              + tok.vocabSize()
              + " tokens; evaluate models that share the tokenizer");
    }
  }

  /** The exemplars of each item (empty zero-shot), the same for every template and model. */
  private static List<List<Example>> exemplars(
      Task task, List<EvalExamples.Item> items, Settings s) {
    List<List<Example>> out = new ArrayList<>(items.size());
    ExemplarPool pool =
        s.shots() > 0
            ? ExemplarPool.of(task, dev.flantune.tasks.Renderer.EXEMPLAR_POOL, s.seed())
            : null;
    for (EvalExamples.Item it : items)
      out.add(pool == null ? List.of() : pool.pick(it.example(), s.shots()));
    return out;
  }

  private static EvalReport.Provenance provenance(
      Settings s, Map<String, EvaluatedModel> models, TaskRegistry registry) {
    List<EvalReport.ModelRef> refs = new ArrayList<>();
    models.forEach(
        (role, m) ->
            refs.add(
                new EvalReport.ModelRef(
                    role,
                    m.dir() == null ? null : m.dir().toAbsolutePath().toString(),
                    m.sha256())));
    Map<String, String> env = new LinkedHashMap<>();
    env.put(
        "flan_tune_version",
        String.valueOf(HeldOutEval.class.getPackage().getImplementationVersion()));
    env.put("java", System.getProperty("java.version"));
    env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    env.put("cpus", String.valueOf(Runtime.getRuntime().availableProcessors()));
    return new EvalReport.Provenance(
        Instant.now().toString(),
        s.seed(),
        s.shots(),
        s.split().yamlName(),
        s.maxExamples(),
        registry.root().toAbsolutePath().toString(),
        s.heldOut(),
        refs,
        env);
  }
}
