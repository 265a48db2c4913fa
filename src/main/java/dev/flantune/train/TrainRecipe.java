package dev.flantune.train;

import dev.flantune.checkpoint.DType;
import dev.flantune.config.RunConfig;
import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.data.ChatFormat;
import dev.flantune.data.ExampleTokenizer;
import dev.flantune.data.InstructionSource;
import dev.flantune.data.Mixture;
import dev.flantune.data.TextWindows;
import dev.flantune.eval.EvaluatedModel;
import dev.flantune.eval.HeldOutEval;
import dev.flantune.eval.TrainingRun;
import dev.flantune.eval.contamination.ContaminationSources;
import dev.flantune.model.CausalLm;
import dev.flantune.model.lora.AdapterFiles;
import dev.flantune.model.lora.LoraAdapter;
import dev.flantune.report.EvalReport;
import dev.flantune.tasks.ClusterOverlaps;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@code flan-tune train}, read top to bottom: set up the run directory, the model and the data;
 * resume if asked; train; save final/; evaluate the held-out clusters when the config names them.
 */
public final class TrainRecipe {
  private final RunConfig cfg;
  private final String resolvedYaml;
  private final Progress progress;
  private final AtomicBoolean stopRequested;

  public TrainRecipe(
      RunConfig cfg, String resolvedYaml, Progress progress, AtomicBoolean stopRequested) {
    this.cfg = cfg;
    this.resolvedYaml = resolvedYaml;
    this.progress = progress;
    this.stopRequested = stopRequested;
  }

  /** The result of a run: where it is, how it ended, and the held-out evaluation (null if none). */
  public record Summary(
      Path runDir, Trainer.Outcome outcome, Path finalModel, EvalReport heldOut) {}

  public Summary run(Path outDir, boolean resume) throws IOException {
    // 1. The run directory: refuse to mix runs unless resuming.
    RunDir run = new RunDir(outDir);
    Optional<Path> checkpoint = resume ? run.latestCheckpoint() : Optional.empty();
    if (!resume && run.isNonEmpty()) {
      throw FlanTuneException.badUsage(
          outDir + " is not empty; pass --resume to continue that run, or --out a new directory");
    }
    Files.createDirectories(outDir);
    String configSha = Provenance.sha256(resolvedYaml);
    if (checkpoint.isPresent()) {
      RunDir.State st = RunDir.readState(checkpoint.get());
      if (!configSha.equals(st.configSha256())) {
        progress.note("warning: the config differs from the one the checkpoint was trained with");
      }
    }
    Files.writeString(run.resolve("config.resolved.yaml"), resolvedYaml);

    // 2. Tokenizer and model: the base checkpoint, a fresh init, or the checkpoint to resume.
    Path tokenizerSource = cfg.model() != null ? cfg.model() : cfg.init().tokenizer();
    try (Tokenizer tok = Tokenizer.load(tokenizerSource)) {
      CausalLm model = model(tok, checkpoint);
      if (model.config().vocabSize() < tok.vocabSize()) {
        throw FlanTuneException.badInput(
            tokenizerSource
                + ": the tokenizer has "
                + tok.vocabSize()
                + " tokens but the model's vocab_size is "
                + model.config().vocabSize());
      }

      // 3. Data: the training stream and the held-in validation batches.
      Data data = data(tok, model.config().nPositions());
      RunDir.writeJson(
          run.resolve("provenance.json"),
          Provenance.describe(cfg.seed(), cfg.model(), data.source.fingerprint(), configSha));

      // 4. The step and, when resuming, its exact state.
      RunConfig.TrainConfig t = cfg.train();
      TrainStep step =
          new TrainStep(
                  model,
                  new AdamW.Settings(t.beta1(), t.beta2(), t.eps(), t.weightDecay()),
                  t.clip(),
                  t.gradAccum())
              .discardingGradients();
      long start = 0, tokensSeen = 0;
      if (checkpoint.isPresent()) {
        RunDir.State st = RunDir.readState(checkpoint.get());
        RunDir.restoreOptimizer(checkpoint.get(), step.optimizer(), st.adamStep());
        data.source.seek(st.dataPosition());
        start = st.step();
        tokensSeen = st.tokensSeen();
        run.truncateMetrics(start);
        progress.note(
            "resuming from "
                + checkpoint.get().getFileName()
                + " (step "
                + start
                + " of "
                + t.steps()
                + ")");
      } else if (resume) {
        progress.note("no checkpoint in " + outDir + "; starting from step 0");
      }

      // 5. Train: in this process, or each step spread over Spark partitions.
      Trainer.Outcome outcome;
      try (OptimizerStep runner = distributed(step)) {
        Trainer trainer =
            new Trainer(
                runner,
                data.source,
                data.validation,
                run,
                t,
                tokenizerSource,
                cfg.seed(),
                configSha,
                progress,
                stopRequested);
        outcome =
            start >= t.steps()
                ? new Trainer.Outcome(start, false, Double.NaN)
                : trainer.train(start, tokensSeen);
      }
      if (outcome.stopped()) return new Summary(outDir, outcome, null, null);

      // 6. The final model, a loadable Hugging Face checkpoint (a LoRA run: the adapter alone).
      Path fin = run.saveFinal(model, DType.valueOf(t.saveDtype()), tokenizerSource);
      progress.note(
          (model.adapter() != null ? "final adapter written to " : "final model written to ")
              + fin);

      // 7. The held-out clusters, zero-shot (or k-shot), tuned against base, every template; a
      // LoRA run's tuned model is the base with the adapter merged.
      CausalLm tuned = model;
      if (model.adapter() != null) {
        tuned = freshBase(tok, DataType.FLOAT);
        model.adapter().mergeInto(tuned);
      }
      EvalReport report = heldOutEval(tuned, fin, tok, run.resolve("eval"));
      return new Summary(outDir, outcome, fin, report);
    }
  }

  /**
   * The step itself, or the same step on Spark when {@code distributed.spark.master} is set (the
   * Spark classes load only then: single-process runs need no Spark on the classpath).
   */
  private OptimizerStep distributed(TrainStep step) {
    RunConfig.SparkSettings spark = cfg.distributed() == null ? null : cfg.distributed().spark();
    if (spark == null || !spark.enabled()) return step;
    try {
      Class.forName("org.apache.spark.api.java.JavaSparkContext");
    } catch (ClassNotFoundException e) {
      throw FlanTuneException.badUsage(
          "distributed.spark.master is set but Spark is not on the classpath: run through"
              + " scripts/flan-tune (which adds target/spark-lib) or spark-submit");
    }
    return dev.flantune.train.spark.SparkStep.open(step, spark, cfg.train(), progress::note);
  }

  private EvalReport heldOutEval(CausalLm tuned, Path fin, Tokenizer tok, Path out)
      throws IOException {
    RunConfig.DataConfig d = cfg.data();
    if (d.objective() != RunConfig.Objective.INSTRUCTION || d.heldOut().isEmpty()) return null;
    RunConfig.EvalConfig e = cfg.eval();
    HeldOutEval.Settings settings =
        new HeldOutEval.Settings(
            d.heldOut(),
            e.shots(),
            Task.Split.parse(e.split()),
            e.maxExamples(),
            e.batchSize(),
            cfg.seed(),
            HeldOutEval.Settings.MAX_NEW_TOKENS_CAP,
            d.maxLength(),
            RenderOptions.of(cfg), // options drawn as in training (shots and seed: eval's)
            e.generative());
    EvaluatedModel base =
        cfg.model() == null
            ? null
            : new EvaluatedModel(
                CausalLm.load(cfg.model()), cfg.model(), Provenance.sha256Tree(cfg.model()));
    progress.note(
        "evaluating held-out clusters " + d.heldOut() + (base == null ? "" : ", base vs tuned"));
    // The report states the options format and checks the held-out examples against this run's
    // mixture and the base's pretraining text.
    TrainingRun run = new TrainingRun(out.resolveSibling(TrainingRun.RESOLVED_CONFIG), cfg);
    String format = d.optionsFormat().name().toLowerCase(java.util.Locale.ROOT);
    HeldOutEval.Checks checks =
        new HeldOutEval.Checks(
            new EvalReport.Rendering(
                format,
                "the run's data.options_format",
                d.promptFormat().yamlName(),
                "the run's data.prompt_format"),
            ContaminationSources.of(ContaminationSources.DEFAULT_NGRAM, run, cfg.model()));
    return HeldOutEval.run(
        settings,
        new EvaluatedModel(tuned, fin, Provenance.sha256Tree(fin)),
        base,
        tok,
        TaskRegistry.load(d.tasks()),
        out,
        progress.writer(),
        checks);
  }

  /**
   * The model to train: the checkpoint to resume, or the base (a checkpoint or a fresh init); with
   * {@code lora:} the base frozen and an adapter beside it, fresh or the checkpoint's.
   */
  private CausalLm model(Tokenizer tok, Optional<Path> checkpoint) {
    boolean adapterCheckpoint = checkpoint.isPresent() && AdapterFiles.isAdapter(checkpoint.get());
    if (checkpoint.isPresent() && adapterCheckpoint != cfg.usesLora()) {
      throw FlanTuneException.badUsage(
          checkpoint.get()
              + (adapterCheckpoint
                  ? " holds a LoRA adapter but the config has no lora: section"
                  : " holds a full model but the config asks for lora:")
              + "; resume with the config the run was started with");
    }
    if (!cfg.usesLora())
      return checkpoint.isPresent()
          ? CausalLm.load(checkpoint.get())
          : freshBase(tok, DataType.FLOAT);
    CausalLm base = freshBase(tok, frozenStorage());
    LoraAdapter adapter;
    if (adapterCheckpoint) {
      adapter = AdapterFiles.load(checkpoint.get(), base);
    } else {
      try {
        adapter =
            LoraAdapter.create(
                base,
                cfg.lora().spec(base.config().modelType()),
                cfg.seed(),
                cfg.model() == null ? null : cfg.model().toString());
      } catch (FlanTuneException e) { // a config problem: exit 2, as the other config errors
        throw FlanTuneException.badUsage(e.getMessage());
      }
    }
    progress.note(
        String.format(
            "LoRA: r=%d on %d modules, %,d trainable parameters (%.2f%% of %,d)",
            adapter.spec().r(),
            adapter.modules().size(),
            adapter.parameters().flat().length(),
            100.0 * adapter.parameters().flat().length() / base.parameters().flat().length(),
            base.parameters().flat().length()));
    return base.withAdapter(adapter);
  }

  /**
   * The base: the configured checkpoint, or a fresh init (seeded, so a LoRA run's resume rebuilds
   * the same base).
   */
  private CausalLm freshBase(Tokenizer tok, DataType storage) {
    if (cfg.model() != null) return CausalLm.load(cfg.model(), storage);
    RunConfig.InitSpec i = cfg.init();
    var c =
        new dev.flantune.model.family.Architecture(
                i.archOrDefault(),
                tok.vocabSize(),
                i.positions(),
                i.embd(),
                i.layers(),
                i.heads(),
                i.kvHeads(),
                i.inter(),
                i.ropeTheta() == null ? 10000 : i.ropeTheta(),
                true,
                null,
                Math.max(0, tok.eosId()))
            .config();
    return CausalLm.random(c, cfg.seed());
  }

  /** How a LoRA run holds its frozen base: model_dtype f32, bf16 or f16. */
  private DataType frozenStorage() {
    return switch (cfg.modelDtype()) {
      case "bf16" -> DataType.BFLOAT16;
      case "f16" -> DataType.HALF;
      default -> DataType.FLOAT;
    };
  }

  record Data(BatchSource source, List<Batch> validation) {}

  private Data data(Tokenizer tok, int nPositions) {
    RunConfig.DataConfig d = cfg.data();
    int length = Math.min(d.maxLength(), nPositions);
    if (d.objective() == RunConfig.Objective.CAUSAL_LM) {
      TextWindows.Tokenized train = TextWindows.tokenize(d.text().train(), tok);
      TextWindows source =
          new TextWindows(
              train.tokens(), length, cfg.train().batchSize(), cfg.seed(), train.sha256());
      List<Batch> validation = List.of();
      if (!d.text().validation().isEmpty()) {
        TextWindows.Tokenized val = TextWindows.tokenize(d.text().validation(), tok);
        validation =
            new TextWindows(val.tokens(), length, cfg.eval().batchSize(), 0, val.sha256())
                .firstWindows(d.validationExamples());
      }
      progress.note(
          String.format(
              "text: %,d training tokens in %,d windows of %d",
              train.tokens().length, source.windowCount(), length));
      return new Data(source, validation);
    }
    return instructionData(tok, length);
  }

  /**
   * The task mixture without the held-out clusters, rendered and tokenized with the loss on
   * targets.
   */
  private Data instructionData(Tokenizer tok, int length) {
    RunConfig.DataConfig d = cfg.data();
    TaskRegistry registry = TaskRegistry.load(d.tasks());
    Set<String> heldOut = new TreeSet<>(d.heldOut());
    Set<String> known = registry.clusters().keySet();
    for (String c : heldOut) {
      if (!known.contains(c)) {
        throw FlanTuneException.badUsage(
            "data.held_out: no cluster '"
                + c
                + "' in "
                + d.tasks()
                + " (clusters: "
                + String.join(", ", known)
                + ")");
      }
    }
    Mixture mixture =
        Mixture.plan(
            registry, new Mixture.Config(d.cap(), d.weights(), heldOut, overlaps(d), cfg.seed()));
    RenderOptions options = RenderOptions.forTraining(cfg, length);
    Renderer renderer = new Renderer(options, s -> tok.encode(s).length);
    ExampleTokenizer examples =
        new ExampleTokenizer(tok, length, ChatFormat.forTraining(tok, d.promptFormat()));
    InstructionSource source =
        new InstructionSource(
            mixture,
            renderer,
            examples,
            cfg.train().batchSize(),
            length,
            d.packing(),
            Provenance.sha256Tree(d.tasks()));
    List<Batch> validation =
        InstructionSource.validation(
            registry,
            mixture,
            renderer,
            examples,
            d.validationExamples(),
            cfg.eval().batchSize(),
            length);
    progress.note(
        String.format(
            "mixture: %d tasks, %,d examples per epoch; held out %s (excluded with overlaps: %s)",
            mixture.entries().size(), mixture.epochSize(), heldOut, mixture.excludedClusters()));
    return new Data(source, validation);
  }

  /** The config's overlap map as pairs; FLAN's pairs when the config gives none. */
  private static ClusterOverlaps overlaps(RunConfig.DataConfig d) {
    if (d.overlapping().isEmpty()) return ClusterOverlaps.flanDefault();
    List<List<String>> pairs = new java.util.ArrayList<>();
    d.overlapping().forEach((c, with) -> with.forEach(w -> pairs.add(List.of(c, w))));
    return new ClusterOverlaps(pairs);
  }
}
