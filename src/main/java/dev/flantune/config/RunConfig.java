package dev.flantune.config;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A run's configuration, immutable and fully resolved: every default comes from defaults.yaml,
 * every path is absolute (resolved against the config file's directory). Field names map to YAML
 * keys in snake_case. Each record lists its semantic problems; {@link ConfigLoader} reports all.
 */
public record RunConfig(
    Path model,
    String modelDtype,
    InitSpec init,
    LoraConfig lora,
    Path output,
    long seed,
    DataConfig data,
    TrainConfig train,
    EvalConfig eval,
    Distributed distributed) {

  /**
   * A fresh random model instead of a checkpoint. {@code arch} null means gpt2; {@code kvHeads},
   * {@code inter} and {@code ropeTheta} null mean the family's defaults (Llama family only).
   */
  public record InitSpec(
      Path tokenizer,
      String arch,
      int layers,
      int heads,
      Integer kvHeads,
      int embd,
      Integer inter,
      int positions,
      Double ropeTheta) {
    public String archOrDefault() {
      return arch == null ? "gpt2" : arch;
    }
  }

  /**
   * A LoRA fine-tune instead of a full one (null). {@code targetModules} empty means the family's
   * usual choice (q_proj and v_proj; GPT-2's c_attn); {@code dropout} and {@code rslora} null mean
   * 0 and false.
   */
  public record LoraConfig(
      Integer r, Double alpha, Double dropout, List<String> targetModules, Boolean rslora) {
    /** The adapter spec, with defaults for the model family {@code modelType}. */
    public dev.flantune.model.lora.LoraSpec spec(String modelType) {
      List<String> targets =
          !targetModules.isEmpty()
              ? targetModules
              : modelType.equals("gpt2") ? List.of("c_attn") : List.of("q_proj", "v_proj");
      return new dev.flantune.model.lora.LoraSpec(
          r == null ? 8 : r,
          alpha == null ? 16 : alpha,
          dropout == null ? 0 : dropout,
          targets,
          rslora != null && rslora);
    }
  }

  /** Whether this is a LoRA run. */
  public boolean usesLora() {
    return lora != null;
  }

  public enum Objective {
    INSTRUCTION,
    CAUSAL_LM
  }

  public enum Schedule {
    COSINE,
    LINEAR,
    CONSTANT
  }

  public enum OptionsFormat {
    FLAN,
    RANDOM
  }

  /** How an example becomes text: FLAN's prompt as is, or through the model's chat template. */
  public enum PromptFormat {
    PLAIN,
    CHAT_TEMPLATE;

    public String yamlName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  public record TextFiles(List<Path> train, List<Path> validation) {}

  public record DataConfig(
      Objective objective,
      Path tasks,
      List<String> heldOut,
      Map<String, List<String>> overlapping,
      int cap,
      Map<String, Double> weights,
      List<Integer> shots,
      OptionsFormat optionsFormat,
      PromptFormat promptFormat,
      TextFiles text,
      int maxLength,
      boolean packing,
      int validationExamples) {}

  public record TrainConfig(
      int steps,
      int batchSize,
      int gradAccum,
      double lr,
      Schedule schedule,
      int warmup,
      double minLrRatio,
      double weightDecay,
      double beta1,
      double beta2,
      double eps,
      double clip,
      int logEvery,
      int evalEvery,
      int checkpointEvery,
      int keepCheckpoints,
      String saveDtype) {}

  public record EvalConfig(
      int shots, String split, int maxExamples, int batchSize, boolean generative) {}

  /** Where steps run: one process (spark.master null) or Spark (docs/distributed.md). */
  public record Distributed(SparkSettings spark) {}

  /**
   * Spark data parallelism: {@code workers} partitions per step, each with grad_accum / workers
   * micro-batches; {@code syncEvery} > 1 is local SGD (K local AdamW steps, then averaging).
   */
  public record SparkSettings(String master, int workers, int syncEvery) {
    public boolean enabled() {
      return master != null;
    }
  }

  /** Semantic problems, each naming its key; empty when the config is usable. */
  public List<String> problems() {
    List<String> p = new ArrayList<>();
    if ((model == null) == (init == null))
      p.add("model / init: give exactly one (a checkpoint directory, or init: {tokenizer, …})");
    if (model != null && !java.nio.file.Files.isDirectory(model))
      p.add("model: directory " + model + " not found");
    if (!List.of("f32", "bf16", "f16").contains(modelDtype))
      p.add("model_dtype must be f32, bf16 or f16 (got " + modelDtype + ")");
    else if (!modelDtype.equals("f32") && model == null)
      p.add("model_dtype: " + modelDtype + " applies to a checkpoint (model:), not to init:");
    else if (!modelDtype.equals("f32") && lora == null)
      p.add(
          "model_dtype: "
              + modelDtype
              + " keeps a frozen base in 2 bytes, which needs a LoRA run (lora: {r: 8, ...});"
              + " a full fine-tune trains in f32");
    if (lora != null) p.addAll(lora.spec("llama").problems("lora."));
    if (init != null) {
      if (init.tokenizer == null || !java.nio.file.Files.exists(init.tokenizer))
        p.add("init.tokenizer: file " + init.tokenizer + " not found");
      if (init.layers <= 0 || init.heads <= 0 || init.embd <= 0 || init.positions <= 0)
        p.add("init: layers, heads, embd and positions must be positive");
      else if (!dev.flantune.model.family.Architecture.NAMES.contains(init.archOrDefault()))
        p.add(
            "init.arch: '"
                + init.arch
                + "' is not one of "
                + String.join(", ", dev.flantune.model.family.Architecture.NAMES));
      else if (init.embd % init.heads != 0)
        p.add("init.embd (" + init.embd + ") must be divisible by init.heads (" + init.heads + ")");
    }
    if (data.objective == Objective.INSTRUCTION) {
      if (data.tasks == null) p.add("data.tasks: required for objective instruction");
      else if (!java.nio.file.Files.isDirectory(data.tasks))
        p.add("data.tasks: directory " + data.tasks + " not found");
    } else {
      if (data.text.train().isEmpty())
        p.add("data.text.train: objective causal_lm needs at least one text file");
      for (Path f : concat(data.text.train(), data.text.validation())) {
        if (!java.nio.file.Files.isRegularFile(f)) p.add("data.text: file " + f + " not found");
      }
    }
    if (data.promptFormat == PromptFormat.CHAT_TEMPLATE) chatTemplateProblem(p);
    positive(p, "data.cap", data.cap);
    positive(p, "data.max_length", data.maxLength);
    if (data.shots.isEmpty() || data.shots.stream().anyMatch(k -> k == null || k < 0))
      p.add(
          "data.shots must be a count ≥ 0 or a list of them to mix (e.g. [0, 2]), got "
              + data.shots);
    positive(p, "train.steps", train.steps);
    positive(p, "train.batch_size", train.batchSize);
    positive(p, "train.grad_accum", train.gradAccum);
    if (!(train.lr > 0)) p.add("train.lr must be positive");
    if (train.warmup < 0) p.add("train.warmup must be ≥ 0");
    if (train.minLrRatio < 0 || train.minLrRatio > 1) p.add("train.min_lr_ratio must be in [0, 1]");
    if (train.weightDecay < 0) p.add("train.weight_decay must be ≥ 0");
    if (train.beta1 < 0 || train.beta1 >= 1) p.add("train.beta1 must be in [0, 1)");
    if (train.beta2 < 0 || train.beta2 >= 1) p.add("train.beta2 must be in [0, 1)");
    if (!(train.eps > 0)) p.add("train.eps must be positive");
    if (train.clip < 0) p.add("train.clip must be ≥ 0 (0 disables clipping)");
    positive(p, "train.log_every", train.logEvery);
    positive(p, "train.checkpoint_every", train.checkpointEvery);
    positive(p, "train.keep_checkpoints", train.keepCheckpoints);
    if (train.evalEvery < 0) p.add("train.eval_every must be ≥ 0 (0 disables)");
    if (!List.of("F32", "F16", "BF16").contains(train.saveDtype))
      p.add("train.save_dtype must be F32, F16 or BF16");
    if (!List.of("train", "validation").contains(eval.split))
      p.add("eval.split must be train or validation");
    positive(p, "eval.max_examples", eval.maxExamples);
    positive(p, "eval.batch_size", eval.batchSize);
    SparkSettings spark = distributed == null ? null : distributed.spark;
    if (spark != null && spark.enabled() && lora != null)
      p.add(
          "distributed.spark with lora: is not supported yet (Spark broadcasts the whole model each"
              + " step); train the adapter in one process (distributed.spark.master: null)");
    if (spark != null && spark.enabled()) {
      if (spark.master.isBlank())
        p.add("distributed.spark.master must be a Spark master such as local[2] (null: no Spark)");
      positive(p, "distributed.spark.workers", spark.workers);
      positive(p, "distributed.spark.sync_every", spark.syncEvery);
      if (spark.workers > 0 && train.gradAccum % spark.workers != 0)
        p.add(
            "train.grad_accum ("
                + train.gradAccum
                + ") must be a multiple of distributed.spark.workers ("
                + spark.workers
                + "): each worker takes grad_accum / workers micro-batches");
      if (spark.syncEvery > 1) {
        // Rounds of local SGD end at multiples of sync_every: checkpoints and validation there.
        for (var e :
            Map.of(
                    "train.steps", train.steps,
                    "train.checkpoint_every", train.checkpointEvery,
                    "train.eval_every", train.evalEvery)
                .entrySet()) {
          if (e.getValue() % spark.syncEvery != 0)
            p.add(
                e.getKey()
                    + " ("
                    + e.getValue()
                    + ") must be a multiple of distributed.spark.sync_every ("
                    + spark.syncEvery
                    + "): local SGD's rounds end there");
        }
      }
    }
    return p;
  }

  /** prompt_format chat_template needs a chat template beside the model's tokenizer. */
  private void chatTemplateProblem(List<String> p) {
    Path tokenizer = model != null ? model : init == null ? null : init.tokenizer;
    if (tokenizer == null || !java.nio.file.Files.exists(tokenizer)) return; // reported above
    try {
      if (dev.flantune.tokenizer.SpecialTokens.read(tokenizer).chatTemplate().isEmpty()) {
        Path dir = java.nio.file.Files.isDirectory(tokenizer) ? tokenizer : tokenizer.getParent();
        p.add(
            "data.prompt_format: chat_template, but "
                + dir.resolve(dev.flantune.tokenizer.SpecialTokens.TOKENIZER_CONFIG)
                + " has no 'chat_template'; set data.prompt_format: plain, or add the model's"
                + " chat template to that file");
      }
    } catch (dev.flantune.util.FlanTuneException e) {
      // A broken tokenizer is reported when it is loaded, with its own message.
    }
  }

  private static void positive(List<String> p, String key, long v) {
    if (v <= 0) p.add(key + " must be positive (got " + v + ")");
  }

  private static List<Path> concat(List<Path> a, List<Path> b) {
    List<Path> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }
}
