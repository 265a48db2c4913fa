package dev.flantune.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.train.Bench;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code flan-tune bench}: times the training step on random data. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description =
        "Time training steps (fp32, AdamW) on random data: tokens/s, ms/step, GFLOP/s, peak"
            + " memory. --mode score times evaluation's scoring instead.")
final class BenchCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--arch",
      defaultValue = "gpt2",
      description = "Architecture: gpt2, llama, qwen2 or mistral.")
  String arch;

  @Option(names = "--kv-heads", description = "Key/value heads (Llama family; default: heads).")
  Integer kvHeads;

  @Option(names = "--inter", description = "MLP width (default 4·embd; Llama: ≈8/3·embd).")
  Integer inter;

  @Option(names = "--vocab", defaultValue = "8000")
  int vocab;

  @Option(names = "--embd", defaultValue = "512")
  int embd;

  @Option(names = "--layers", defaultValue = "6")
  int layers;

  @Option(names = "--heads", defaultValue = "8")
  int heads;

  @Option(names = "--seq", defaultValue = "256")
  int seq;

  @Option(names = "--batch", defaultValue = "4")
  int batch;

  @Option(names = "--steps", defaultValue = "10", description = "Timed steps (after warm-up).")
  int steps;

  @Option(
      names = "--warmup",
      defaultValue = "10",
      description =
          "Untimed steps first (default: ${DEFAULT-VALUE}): the JIT compiles the Vector API kernels"
              + " (attention, exp) over the first dozen steps, and a long run's speed is the"
              + " compiled one.")
  int warmup;

  @Option(
      names = "--profile",
      description = "Print time per native op and per step phase to stderr.")
  boolean profile;

  @Option(names = "--format", defaultValue = "text", description = "text or json.")
  String format;

  @Option(
      names = "--mode",
      defaultValue = "train",
      description =
          "train (a full training step) or score (forward + log-probability of every label, as"
              + " evaluation runs; examples/s = sequences of --seq tokens per second), or"
              + " generate (greedy, one prompt at a time vs --batch at once; prompts of"
              + " --seq/2 to --seq tokens).")
  String mode;

  @Option(
      names = "--lora-r",
      defaultValue = "0",
      description = "Time a LoRA step of this rank on a frozen base (0: full fine-tuning).")
  int loraR;

  @Option(names = "--lora-alpha", description = "LoRA alpha (default 2·r).")
  Double loraAlpha;

  @Option(
      names = "--lora-targets",
      description =
          "Comma list of module names or all-linear (default q_proj,v_proj; gpt2 c_attn).")
  String loraTargets;

  @Option(
      names = "--model-dtype",
      defaultValue = "f32",
      description = "f32, or bf16/f16: the frozen base of a LoRA step held in two bytes.")
  String modelDtype;

  @Option(
      names = "--new-tokens",
      defaultValue = "64",
      description = "--mode generate: tokens generated per prompt (default: ${DEFAULT-VALUE}).")
  int newTokens;

  @Option(
      names = "--prompts",
      defaultValue = "32",
      description = "--mode generate: prompts per round (default: ${DEFAULT-VALUE}).")
  int prompts;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "--mode generate: timed rounds A B (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(
      names = "--also-seq",
      description =
          "Also time this length in the same process, its steps alternated one by one with"
              + " --seq's, and report the tokens/s ratio of the two: a machine whose speed drifts"
              + " slows both alike (train and score modes).")
  Integer alsoSeq;

  @Option(
      names = "--also-batch",
      description = "Batch of --also-seq (default: the same tokens per step as --seq × --batch).")
  Integer alsoBatch;

  @Override
  public Integer call() {
    if (!format.equals("text") && !format.equals("json")) {
      throw dev.flantune.util.FlanTuneException.badUsage("--format must be text or json");
    }
    if (mode.equals("generate")) return generate();
    if (!mode.equals("train") && !mode.equals("score")) {
      throw dev.flantune.util.FlanTuneException.badUsage("--mode must be train, score or generate");
    }
    boolean scoring = mode.equals("score");
    if (embd % heads != 0)
      throw dev.flantune.util.FlanTuneException.badUsage("--embd must be divisible by --heads");
    if (loraR < 0) throw dev.flantune.util.FlanTuneException.badUsage("--lora-r must be >= 0");
    if (loraR > 0 && scoring)
      throw dev.flantune.util.FlanTuneException.badUsage("--lora-r needs --mode train");
    dev.flantune.model.lora.LoraSpec lora =
        loraR == 0
            ? null
            : new dev.flantune.model.lora.LoraSpec(
                loraR,
                loraAlpha != null ? loraAlpha : 2.0 * loraR,
                0,
                loraTargets != null
                    ? java.util.List.of(loraTargets.split(","))
                    : arch.equals("gpt2")
                        ? java.util.List.of("c_attn")
                        : java.util.List.of("q_proj", "v_proj"),
                false);
    org.nd4j.linalg.api.buffer.DataType storage =
        switch (modelDtype) {
          case "f32" -> org.nd4j.linalg.api.buffer.DataType.FLOAT;
          case "bf16" -> org.nd4j.linalg.api.buffer.DataType.BFLOAT16;
          case "f16" -> org.nd4j.linalg.api.buffer.DataType.HALF;
          default ->
              throw dev.flantune.util.FlanTuneException.badUsage(
                  "--model-dtype must be f32, bf16 or f16");
        };
    if (!modelDtype.equals("f32") && lora == null)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "--model-dtype " + modelDtype + " holds a frozen base: add --lora-r");
    if (alsoSeq == null && alsoBatch != null)
      throw dev.flantune.util.FlanTuneException.badUsage("--also-batch needs --also-seq");
    if (alsoSeq != null && (alsoSeq < 1 || (alsoBatch != null && alsoBatch < 1)))
      throw dev.flantune.util.FlanTuneException.badUsage(
          "--also-seq and --also-batch must be >= 1");
    if (alsoSeq != null && profile)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "--profile times one shape: leave out --also-seq");
    int[][] shapes =
        alsoSeq == null
            ? new int[][] {{seq, batch}}
            : new int[][] {
              {seq, batch},
              {alsoSeq, alsoBatch != null ? alsoBatch : Math.max(1, seq * batch / alsoSeq)}
            };
    if (profile) dev.flantune.model.StepProfile.enable();
    Bench.Result[] results =
        Bench.runAlternating(
            new Bench.Settings(
                arch, vocab, embd, layers, heads, kvHeads, inter, seq, batch, steps, warmup,
                scoring, lora, storage),
            shapes);
    Bench.Result r = results[0];
    if (profile) {
      long stepNanos = (long) (java.util.Arrays.stream(r.msPerStep()).sum() * 1e6);
      dev.flantune.model.StepProfile.print(System.err, stepNanos, steps);
    }
    var out = spec.commandLine().getOut();
    if (format.equals("json")) {
      ObjectNode o = new ObjectMapper().createObjectNode();
      o.put("impl", "flan-tune");
      o.put("mode", mode);
      o.put("engine", r.engine());
      o.put("arch", arch);
      o.put("model_dtype", modelDtype);
      if (lora != null) {
        ObjectNode l = o.putObject("lora");
        l.put("r", lora.r());
        l.put("alpha", lora.alpha());
        l.put("targets", String.join(",", lora.targetModules()));
      }
      putResult(o, r, scoring);
      if (results.length > 1) {
        Bench.Result b = results[1];
        putResult(o.putObject("also"), b, scoring);
        o.put("tokens_per_s_ratio", b.tokensPerS() / r.tokensPerS());
        o.put("step_pair_ratio_median", pairRatioMedian(r, b));
      }
      o.put("native", System.getProperty("org.bytedeco.javacpp.platform.extension", ""));
      out.println(o);
    } else {
      for (Bench.Result x : results) printResult(out, x, lora, scoring);
      if (results.length > 1) {
        Bench.Result b = results[1];
        out.printf(
            "ratio       T%d B%d / T%d B%d tokens/s: %.3f (median over the %d step pairs: %.3f;"
                + " steps alternated in one process)%n",
            b.settings().seq(),
            b.settings().batch(),
            seq,
            batch,
            b.tokensPerS() / r.tokensPerS(),
            steps,
            pairRatioMedian(r, b));
      }
    }
    out.flush();
    return 0;
  }

  /** {@code --mode generate}: one at a time vs batched on a random model of the given shape. */
  /** The timing fields of one result into a JSON object. */
  private void putResult(ObjectNode o, Bench.Result r, boolean scoring) {
    o.putPOJO("config", r.settings());
    o.put("parameters", r.parameters());
    o.put("tokens_per_s", r.tokensPerS());
    if (scoring) o.put("examples_per_s", r.settings().batch() * 1000.0 / r.msPerStepMedian());
    o.put("ms_per_step_median", r.msPerStepMedian());
    var all = o.putArray("ms_per_step_all");
    for (double m : r.msPerStep()) all.add(m);
    o.put("gflops", r.gflops());
    o.put("gemm_ceiling_gflops", r.gemmCeilingGflops());
    o.put("openblas_coretype", blasKernels());
    o.put("fraction_of_ceiling", r.gflops() / r.gemmCeilingGflops());
    o.put("peak_rss_mb", r.peakRssMb());
    o.put("peak_offheap_mb", r.peakOffHeapMb());
    o.put("peak_heap_mb", r.peakHeapMb());
  }

  /** One result as text. */
  private void printResult(
      java.io.PrintWriter out,
      Bench.Result r,
      dev.flantune.model.lora.LoraSpec lora,
      boolean scoring) {
    int seq = r.settings().seq(), batch = r.settings().batch();
    out.printf(
        "config      %s V%d d%d L%d H%d KV%d F%d T%d B%d (%,d parameters), %s engine%n",
        arch,
        vocab,
        embd,
        layers,
        heads,
        r.config().nKvHead(),
        r.config().innerSize(),
        seq,
        batch,
        r.parameters(),
        r.engine());
    if (lora != null)
      out.printf(
          "lora        r%d alpha %.0f on %s (the base frozen)%n",
          lora.r(), lora.alpha(), String.join(",", lora.targetModules()));
    out.printf(
        "%s %.1f ms (median of %d after %d warm-up)%n",
        scoring ? "forward    " : "step       ", r.msPerStepMedian(), steps, warmup);
    out.printf("throughput  %,.0f tokens/s%n", r.tokensPerS());
    if (scoring)
      out.printf(
          "scoring     %,.1f examples/s (sequences of %d tokens)%n",
          batch * 1000.0 / r.msPerStepMedian(), seq);
    out.printf(
        "compute     %.1f GFLOP/s = %.0f%% of the measured GEMM ceiling (%.0f GFLOP/s,"
            + " OpenBLAS kernels: %s)%n",
        r.gflops(), 100 * r.gflops() / r.gemmCeilingGflops(), r.gemmCeilingGflops(), blasKernels());
    out.printf(
        "memory      peak RSS %.0f MB, off-heap %.0f MB, heap %.0f MB%n",
        r.peakRssMb(), r.peakOffHeapMb(), r.peakHeapMb());
  }

  /**
   * The median over timed steps i of (T'·B'/ms'_i) / (T·B/ms_i): each pair of alternated steps ran
   * back to back, so their ratio is the least touched by the machine's drift.
   */
  private static double pairRatioMedian(Bench.Result a, Bench.Result b) {
    double ta = a.settings().seq() * (double) a.settings().batch();
    double tb = b.settings().seq() * (double) b.settings().batch();
    double[] q = new double[a.msPerStep().length];
    for (int i = 0; i < q.length; i++) q[i] = (tb / b.msPerStep()[i]) / (ta / a.msPerStep()[i]);
    java.util.Arrays.sort(q);
    return q.length % 2 == 1 ? q[q.length / 2] : (q[q.length / 2 - 1] + q[q.length / 2]) / 2;
  }

  private int generate() {
    if (newTokens < 1 || prompts < 1 || rounds < 1 || batch < 1 || seq < 1)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "--new-tokens, --prompts, --rounds, --batch and --seq must be >= 1");
    dev.flantune.model.ModelConfig c =
        new dev.flantune.model.family.Architecture(
                arch,
                vocab,
                seq + newTokens,
                embd,
                layers,
                heads,
                kvHeads,
                inter,
                10000,
                true,
                null,
                vocab - 1)
            .config();
    var model = dev.flantune.model.CausalLm.random(c, 0);
    if (profile) dev.flantune.model.StepProfile.enable();
    var o =
        dev.flantune.eval.GenerateBench.run(
            model,
            new dev.flantune.eval.GenerateBench.Settings(prompts, seq, newTokens, batch, rounds));
    o.put("arch", arch);
    o.put("engine", model.engine() == dev.flantune.model.Engine.CPU ? "cpu" : "graph");
    o.put("openblas_coretype", blasKernels());
    if (profile) { // the phases of the last round's batched side
      var all = o.get("batched").get("seconds_all");
      long nanos = (long) (all.get(all.size() - 1).asDouble() * 1e9);
      dev.flantune.model.StepProfile.print(System.err, nanos, 1);
    }
    var out = spec.commandLine().getOut();
    if (format.equals("json")) out.println(o);
    else dev.flantune.eval.GenerateBench.print(o, out);
    out.flush();
    return 0;
  }

  /** The OpenBLAS core type the launcher chose or the environment pinned ("auto": OpenBLAS's). */
  static String blasKernels() {
    String v = System.getenv("OPENBLAS_CORETYPE");
    return v == null || v.isBlank() ? "auto" : v;
  }
}
