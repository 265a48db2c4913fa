package dev.flantune.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flantune.config.ConfigLoader;
import dev.flantune.config.ConfigTree;
import dev.flantune.config.RunConfig;
import dev.flantune.eval.EvaluatedModel;
import dev.flantune.eval.HeldOutEval;
import dev.flantune.eval.TrainingRun;
import dev.flantune.eval.contamination.ContaminationSources;
import dev.flantune.model.CausalLm;
import dev.flantune.report.EvalReport;
import dev.flantune.report.SummaryTable;
import dev.flantune.tasks.OptionsFormat;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.train.Provenance;
import dev.flantune.util.FlanTuneException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune eval}: the held-out clusters' tasks through every template, tuned (and base)
 * model. Settings come from the command line, else from {@code --config}'s {@code eval} section,
 * else from the defaults in {@code defaults.yaml} (written once, there). Progress goes to stderr,
 * the summary table to stdout, the reports to {@code --out}.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description = "Evaluate held-out task clusters zero-/few-shot, base vs tuned.")
final class EvalCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--held-out",
      split = ",",
      paramLabel = "CLUSTER",
      description =
          "Clusters to evaluate, comma-separated (default with --config: its data.held_out).")
  List<String> heldOut;

  @Option(
      names = "--model",
      required = true,
      description = "Tuned checkpoint directory (Hugging Face layout, with tokenizer).")
  Path model;

  @Option(
      names = "--adapter",
      description = "A LoRA adapter directory (PEFT layout) applied to --model: the tuned model.")
  Path adapter;

  @Option(
      names = "--base",
      arity = "0..1",
      fallbackValue = ADAPTER_BASE,
      description =
          "Base checkpoint to compare against (same tokenizer); bare --base with an adapter: the"
              + " adapter's base.")
  Path base;

  static final String ADAPTER_BASE = "<the adapter's base>";

  private ModelArgs tunedArgs;

  @ArgGroup(exclusive = true)
  Source source = new Source();

  static final class Source {
    @Option(
        names = "--config",
        description = "Run config: its task collection, eval settings, seed and max length.")
    Path config;

    @Option(names = "--tasks", description = "Task collection directory (default: data/tasks).")
    Path tasks;
  }

  @Option(names = "--shots", description = "Exemplars from the train split (default: 0).")
  Integer shots;

  @Option(names = "--split", description = "train or validation (default: validation).")
  String split;

  @Option(
      names = "--max-examples",
      description = "Examples per task, the same for every template (default: 100).")
  Integer maxExamples;

  @Option(
      names = "--batch-size",
      description = "Sequences per forward pass when ranking options (default: 16).")
  Integer batchSize;

  @Option(
      names = "--seed",
      description = "Seed of the example sample and exemplars (default: 0, or the config's).")
  Long seed;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "64",
      description =
          "Cap on generated tokens (generation stops at min(cap, 2 × longest reference)); default ${DEFAULT-VALUE}.")
  int maxNewTokens;

  @Option(
      names = "--options-format",
      paramLabel = "flan|random",
      description =
          "How {options_} is drawn: FLAN's OPTIONS block, or Flan Collection variants per example"
              + " (default: the training run's data.options_format when the model came from a run,"
              + " else flan).")
  String optionsFormat;

  @Option(
      names = "--prompt-format",
      paramLabel = "plain|chat_template",
      description =
          "plain, or chat_template: each prompt a user message through the model's chat template,"
              + " options scored and answers generated as the assistant's reply (default: the"
              + " training run's data.prompt_format when the model came from a run, else plain).")
  String promptFormat;

  @Option(
      names = "--train-config",
      paramLabel = "FILE",
      description =
          "The tuned model's training config, for the contamination check and the options format"
              + " (default: config.resolved.yaml of the run the model came from).")
  Path trainConfig;

  @Option(
      names = "--contamination-ngram",
      paramLabel = "N",
      description =
          "Word n-gram length of the contamination check (default: ${DEFAULT-VALUE}; 0 skips it).",
      defaultValue = "13")
  int contaminationNgram;

  @Option(
      names = "--generative",
      negatable = true,
      description =
          "Also answer classification tasks by greedy decoding: generative accuracy and option"
              + " rate (default: eval.generative, true).")
  Boolean generative;

  @Option(
      names = "--out",
      defaultValue = "eval-out",
      description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out;

  static final Path DEFAULT_TASKS = Path.of("data/tasks");

  @Override
  public Integer call() throws Exception {
    PrintWriter err = spec.commandLine().getErr();
    tunedArgs = ModelArgs.of(model, adapter);
    if (base != null && base.toString().equals(ADAPTER_BASE)) {
      if (tunedArgs.adapter() == null)
        throw FlanTuneException.badUsage(
            "--base without a directory compares against an adapter's base; pass --adapter, or"
                + " --base DIR");
      base = tunedArgs.model();
    }
    HeldOutEval.Settings settings;
    Path tasksDir;
    if (source.config != null) {
      RunConfig cfg = ConfigLoader.load(source.config, List.of());
      RunConfig.EvalConfig e = cfg.eval();
      tasksDir = cfg.data().tasks();
      if (tasksDir == null)
        throw FlanTuneException.badUsage(
            source.config + ": data.tasks is not set; pass --tasks instead");
      settings =
          settings(
              heldOut != null ? heldOut : cfg.data().heldOut(),
              or(shots, e.shots()),
              or(split, e.split()),
              or(maxExamples, e.maxExamples()),
              or(batchSize, e.batchSize()),
              or(seed, cfg.seed()),
              cfg.data().maxLength(),
              or(generative, e.generative()));
    } else {
      JsonNode d = ConfigTree.defaults().get("eval");
      tasksDir = source.tasks != null ? source.tasks : DEFAULT_TASKS;
      settings =
          settings(
              heldOut,
              or(shots, d.get("shots").asInt()),
              or(split, d.get("split").asText()),
              or(maxExamples, d.get("max_examples").asInt()),
              or(batchSize, d.get("batch_size").asInt()),
              or(seed, 0L),
              0,
              or(generative, d.get("generative").asBoolean()));
    }
    // The run that trained the tuned model: evaluation renders options as it did, and the
    // contamination check reads its mixture.
    TrainingRun run = trainingRun(err);
    EvalReport.Rendering rendering = rendering(run);
    err.println(
        "eval: options format "
            + rendering.optionsFormat()
            + " ("
            + rendering.chosenBy()
            + "), prompt format "
            + rendering.promptFormat()
            + " ("
            + rendering.promptChosenBy()
            + ")");
    settings = settings.withRender(RenderOptions.DEFAULTS.withOptionsFormat(policy(rendering)));
    // Cheap checks first: a misspelt cluster fails before any model is loaded.
    TaskRegistry registry = TaskRegistry.load(tasksDir);
    HeldOutEval.heldOutTasks(settings, registry);
    if (contaminationNgram < 0)
      throw FlanTuneException.badUsage("--contamination-ngram must be >= 0 (0 skips the check)");
    Path pretrainedBase = base != null ? base : run != null ? run.cfg().model() : null;
    ContaminationSources contamination =
        contaminationNgram == 0
            ? null
            : ContaminationSources.of(contaminationNgram, run, pretrainedBase);

    EvaluatedModel tuned = load(tunedArgs, err);
    EvaluatedModel baseModel = base == null ? null : load(ModelArgs.of(base, null), err);
    EvalReport report;
    try (Tokenizer tok = Tokenizer.load(tunedArgs.tokenizer())) {
      report =
          HeldOutEval.run(
              settings,
              tuned,
              baseModel,
              tok,
              registry,
              out,
              err,
              new HeldOutEval.Checks(rendering, contamination));
    }
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.print(SummaryTable.render(report));
    stdout.flush();
    err.println(
        "eval: reports in " + out + " (report.json, report.md, report.html, predictions.jsonl)");
    return 0;
  }

  private HeldOutEval.Settings settings(
      List<String> clusters,
      int k,
      String splitName,
      int max,
      int batch,
      long s,
      int maxLength,
      boolean gen) {
    if (clusters == null || clusters.isEmpty()) {
      throw FlanTuneException.badUsage(
          "--held-out: name the clusters to evaluate (see 'flan-tune tasks' for the clusters)");
    }
    Task.Split sp;
    try {
      sp = Task.Split.parse(splitName);
    } catch (IllegalArgumentException e) {
      throw FlanTuneException.badUsage("--split: " + e.getMessage());
    }
    List<String> names = clusters.stream().map(String::strip).filter(c -> !c.isEmpty()).toList();
    return new HeldOutEval.Settings(
        names, k, sp, max, batch, s, maxNewTokens, maxLength, RenderOptions.DEFAULTS, gen);
  }

  /** --train-config, else the resolved config of the run the model came from, else none. */
  private TrainingRun trainingRun(PrintWriter err) {
    if (trainConfig != null) return TrainingRun.load(trainConfig);
    var found = TrainingRun.configOf(tunedArgs.identity());
    if (found.isEmpty()) return null;
    try {
      return TrainingRun.load(found.get());
    } catch (FlanTuneException e) {
      err.println(
          "eval: warning: cannot use the training run's config ("
              + e.getMessage()
              + "); rendering options as flan and skipping its mixture");
      return null;
    }
  }

  private EvalReport.Rendering rendering(TrainingRun run) {
    EvalReport.Rendering options = optionsRendering(run);
    String prompt, chosenBy;
    if (promptFormat != null) {
      if (!promptFormat.equals(EvalReport.Rendering.PLAIN)
          && !promptFormat.equals(EvalReport.Rendering.CHAT_TEMPLATE))
        throw FlanTuneException.badUsage(
            "--prompt-format: '" + promptFormat + "' is not one of plain, chat_template");
      prompt = promptFormat;
      chosenBy = "--prompt-format";
    } else if (run != null) {
      prompt = run.promptFormat().yamlName();
      chosenBy = "the training run's data.prompt_format (" + run.config() + ")";
    } else {
      prompt = EvalReport.Rendering.PLAIN;
      chosenBy = "default (the model has no training run)";
    }
    return new EvalReport.Rendering(options.optionsFormat(), options.chosenBy(), prompt, chosenBy);
  }

  private EvalReport.Rendering optionsRendering(TrainingRun run) {
    if (optionsFormat != null) {
      if (!optionsFormat.equals("flan") && !optionsFormat.equals("random"))
        throw FlanTuneException.badUsage(
            "--options-format: '" + optionsFormat + "' is not one of flan, random");
      return new EvalReport.Rendering(optionsFormat, "--options-format");
    }
    if (run != null)
      return new EvalReport.Rendering(
          name(run.optionsFormat()),
          "the training run's data.options_format (" + run.config() + ")");
    return new EvalReport.Rendering("flan", "default (the model has no training run)");
  }

  private static String name(RunConfig.OptionsFormat f) {
    return f.name().toLowerCase(java.util.Locale.ROOT);
  }

  static OptionsFormat.Policy policy(EvalReport.Rendering r) {
    return r.optionsFormat().equals("random")
        ? OptionsFormat.Policy.randomAmong(OptionsFormat.FLAN_COLLECTION)
        : OptionsFormat.Policy.FLAN_ONLY;
  }

  private static EvaluatedModel load(ModelArgs args, PrintWriter err) {
    CausalLm lm = args.load();
    Path dir = args.identity();
    err.println(
        "eval: loaded "
            + (args.adapter() == null ? dir : args.model() + " + adapter " + dir)
            + " ("
            + lm.config().nLayer()
            + " layers, n_positions "
            + lm.config().nPositions()
            + ")");
    return new EvaluatedModel(lm, dir, Provenance.sha256Tree(dir));
  }

  private static <T> T or(T value, T fallback) {
    return value != null ? value : fallback;
  }
}
