package dev.flantune.report;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of a held-out evaluation. Scores are percentages (0–100) for every metric, as FLAN and
 * sacrebleu report them. Models are named by role: {@link #TUNED}, and {@link #BASE} when compared.
 *
 * @param models the roles evaluated, tuned first
 * @param provenance what produced the numbers (see {@link Provenance})
 * @param rendering how prompts were drawn (the options format, and what chose it)
 * @param contamination overlap of the held-out examples with training text; null when not checked
 */
public record EvalReport(
    List<String> models,
    Provenance provenance,
    List<ClusterResult> clusters,
    Map<String, Throughput> throughput,
    Rendering rendering,
    Contamination contamination) {

  public static final String TUNED = "tuned";
  public static final String BASE = "base";
  public static final String FORMAT = "flan-tune-eval/1";

  public EvalReport {
    models = List.copyOf(models);
    clusters = List.copyOf(clusters);
    throughput = new LinkedHashMap<>(throughput);
    if (rendering == null) rendering = Rendering.DEFAULT;
  }

  /** A report with FLAN's options block and no contamination check. */
  public EvalReport(
      List<String> models,
      Provenance provenance,
      List<ClusterResult> clusters,
      Map<String, Throughput> throughput) {
    this(models, provenance, clusters, throughput, Rendering.DEFAULT, null);
  }

  /**
   * How the prompts were rendered.
   *
   * @param optionsFormat {@code flan} (FLAN's OPTIONS block) or {@code random} (Flan Collection
   *     variants chosen per example)
   * @param chosenBy what decided it: {@code --options-format}, the training run's config, or the
   *     default
   * @param promptFormat {@code plain} (the prompt as text) or {@code chat_template} (through the
   *     model's chat template, the answer as the assistant's reply)
   * @param promptChosenBy what decided the prompt format
   */
  public record Rendering(
      String optionsFormat, String chosenBy, String promptFormat, String promptChosenBy) {
    public static final String PLAIN = "plain";
    public static final String CHAT_TEMPLATE = "chat_template";
    public static final Rendering DEFAULT = new Rendering("flan", "default");

    /** Plain prompts, by default. */
    public Rendering(String optionsFormat, String chosenBy) {
      this(optionsFormat, chosenBy, PLAIN, "default");
    }

    public boolean chatTemplate() {
      return CHAT_TEMPLATE.equals(promptFormat);
    }
  }

  public boolean compared() {
    return models.contains(BASE);
  }

  /** A model evaluated: where it came from and its fingerprint (null when built in memory). */
  public record ModelRef(String role, String path, String sha256) {}

  /** The evaluation's inputs, so a number in the report can be traced and reproduced. */
  public record Provenance(
      String date,
      long seed,
      int shots,
      String split,
      int maxExamples,
      String tasks,
      List<String> heldOut,
      List<ModelRef> models,
      Map<String, String> environment) {
    public Provenance {
      heldOut = List.copyOf(heldOut);
      models = List.copyOf(models);
      environment = new LinkedHashMap<>(environment);
    }
  }

  /** One held-out cluster; its score is the mean of its tasks' scores. */
  public record ClusterResult(String name, List<TaskResult> tasks) {
    public ClusterResult {
      tasks = List.copyOf(tasks);
    }

    public double mean(String model) {
      List<Double> means = new ArrayList<>();
      for (TaskResult t : tasks) means.add(t.scores(model).spread().mean());
      return Spread.of(means).mean();
    }
  }

  /**
   * One task: its score per template for each model.
   *
   * @param nExamples examples per template (the same examples for every template)
   * @param skipped templates not evaluated, with the reason (turned templates of a classification
   *     task: their target is not an option, so there is nothing to rank)
   */
  public record TaskResult(
      String task,
      String cluster,
      String kind,
      String metric,
      int nExamples,
      List<SkippedTemplate> skipped,
      Map<String, ModelScores> byModel) {
    public TaskResult {
      skipped = List.copyOf(skipped);
      byModel = new LinkedHashMap<>(byModel);
    }

    public ModelScores scores(String model) {
      ModelScores s = byModel.get(model);
      if (s == null)
        throw new IllegalArgumentException("no scores for model '" + model + "' in task " + task);
      return s;
    }

    /** Tuned minus base, per template and for the mean; NaN when there is no base. */
    public Spread delta() {
      if (!byModel.containsKey(BASE)) return Spread.of(List.of());
      return Spread.of(deltas());
    }

    public List<Double> deltas() {
      List<TemplateScore> t = scores(TUNED).templates(), b = scores(BASE).templates();
      List<Double> d = new ArrayList<>(t.size());
      for (int i = 0; i < t.size(); i++) d.add(t.get(i).score() - b.get(i).score());
      return d;
    }
  }

  public record SkippedTemplate(int template, String reason) {}

  /** One model's scores on one task, one per evaluated template in template order. */
  public record ModelScores(List<TemplateScore> templates) {
    public ModelScores {
      templates = List.copyOf(templates);
    }

    public Spread spread() {
      return Spread.of(templates.stream().map(TemplateScore::score).toList());
    }

    public Spread accNormToken() {
      return Spread.of(templates.stream().map(TemplateScore::accNormToken).toList());
    }

    public Spread accNormChar() {
      return Spread.of(templates.stream().map(TemplateScore::accNormChar).toList());
    }

    /** Generative accuracy across templates (classification with generation on; else NaN). */
    public Spread generative() {
      return Spread.of(templates.stream().map(TemplateScore::generative).toList());
    }

    /** The mean over templates of a measure. */
    public double perTemplateMean(Measure m) {
      return Spread.of(templates.stream().map(m::summary).toList()).mean();
    }

    /** The share of generations that are one of the options, across templates. */
    public Spread optionRate() {
      return Spread.of(templates.stream().map(TemplateScore::optionRate).toList());
    }

    /**
     * Each example's score averaged over the templates that scored it (NaN when none did): the unit
     * the bootstrap resamples, since one example's templates are not independent.
     */
    public double[] perExample(Measure m) {
      int n = templates.stream().mapToInt(t -> m.of(t).length).max().orElse(0);
      double[] out = new double[n];
      for (int i = 0; i < n; i++) {
        double sum = 0;
        int k = 0;
        for (TemplateScore t : templates) {
          double[] v = m.of(t);
          if (i < v.length && !Double.isNaN(v[i])) {
            sum += v[i];
            k++;
          }
        }
        out[i] = k == 0 ? Double.NaN : sum / k;
      }
      return out;
    }
  }

  /** What a per-example score array measures. */
  public enum Measure {
    /** The task's own score: rank-classification accuracy, or the generation metric. */
    SCORE,
    /** Generative accuracy of a classification task. */
    GENERATIVE,
    /** Whether the generation was one of the options. */
    OPTION_RATE;

    public double[] of(TemplateScore t) {
      return switch (this) {
        case SCORE -> t.perExample();
        case GENERATIVE -> t.perExampleGenerative();
        case OPTION_RATE -> t.perExampleOption();
      };
    }

    public double summary(TemplateScore t) {
      return switch (this) {
        case SCORE -> t.score();
        case GENERATIVE -> t.generative();
        case OPTION_RATE -> t.optionRate();
      };
    }
  }

  /**
   * The score of one template.
   *
   * @param n examples scored (examples whose target cannot fit the context are skipped, see {@code
   *     skipped})
   * @param accNormToken rank classification with each option's log-probability divided by its token
   *     count (EOS included); NaN for generation
   * @param accNormChar divided by the option target's character count; NaN for generation
   * @param perExample each example's score (0–100) in the evaluated examples' order, NaN when
   *     skipped or when the metric is only defined over the corpus (BLEU); for intervals and tests
   * @param generative generative accuracy of a classification task (greedy answer, normalized,
   *     equal to the answer's target); NaN when not measured
   * @param optionRate the share (0–100) of generations that are one of the options; NaN when not
   *     measured
   * @param perExampleGenerative per example 100 (right) or 0; empty when not measured
   * @param perExampleOption per example 100 (an option) or 0; empty when not measured
   */
  public record TemplateScore(
      int template,
      int n,
      int skipped,
      double score,
      double accNormToken,
      double accNormChar,
      double[] perExample,
      double generative,
      double optionRate,
      double[] perExampleGenerative,
      double[] perExampleOption) {

    /** A score without per-example detail or generation (no intervals, no tests). */
    public TemplateScore(
        int template, int n, int skipped, double score, double accNormToken, double accNormChar) {
      this(
          template,
          n,
          skipped,
          score,
          accNormToken,
          accNormChar,
          new double[0],
          Double.NaN,
          Double.NaN,
          new double[0],
          new double[0]);
    }

    /** Right or wrong counts of a 0/100 per-example array (for Wilson and McNemar). */
    public int correct(Measure m) {
      int k = 0;
      for (double v : m.of(this)) if (v == 100) k++;
      return k;
    }

    public int scored(Measure m) {
      int k = 0;
      for (double v : m.of(this)) if (!Double.isNaN(v)) k++;
      return k;
    }
  }

  /** How fast a model was evaluated: example × template evaluations per second. */
  public record Throughput(long evaluations, double seconds) {
    public double perSecond() {
      return seconds > 0 ? evaluations / seconds : Double.NaN;
    }
  }
}
