package dev.flantune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.CausalLm;
import dev.flantune.selfinstruct.CollectionWriter;
import dev.flantune.selfinstruct.GeneratorSampler;
import dev.flantune.selfinstruct.PoolStore;
import dev.flantune.selfinstruct.SeedLoader;
import dev.flantune.selfinstruct.SeedTask;
import dev.flantune.selfinstruct.SelfInstruct;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune self-instruct}: grows an instruction collection from seed tasks with the model
 * itself (Self-Instruct, Wang et al., 2022) and writes it as a task collection that {@code tasks},
 * {@code render} and {@code train} read, plus {@code alpaca.jsonl} and {@code
 * self_instruct_report.json}. Ctrl-C stops after the current round; what was kept stays kept.
 */
@Command(
    name = "self-instruct",
    mixinStandardHelpOptions = true,
    description =
        "Grow an instruction collection from seed tasks with the model itself (Self-Instruct).")
final class SelfInstructCommand implements Callable<Integer> {
  static final String REPORT = "self_instruct_report.json";

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "Checkpoint directory with tokenizer.")
  Path model;

  @Option(
      names = "--adapter",
      description = "A LoRA adapter directory (PEFT layout) to apply to --model.")
  Path adapter;

  @Option(
      names = "--seeds",
      required = true,
      description = "Seed tasks: a Self-Instruct seed JSONL file, or a task collection directory.")
  Path seeds;

  @Option(names = "--out", required = true, description = "Output directory (the collection).")
  Path out;

  @Option(names = "--instructions", required = true, description = "Instructions to keep.")
  int instructions;

  @Option(
      names = "--max-candidates",
      description = "Most candidate instructions to generate (default: 20 × --instructions).")
  Integer maxCandidates;

  @Option(names = "--seed", defaultValue = "0", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--batch-size",
      defaultValue = "8",
      description =
          "Instruction-generation prompts per round, decoded together (default:"
              + " ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(
      names = "--temperature",
      defaultValue = "0.7",
      description = "Sampling temperature for instructions (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-p",
      defaultValue = "0.5",
      description = "Nucleus sampling for instructions (default: ${DEFAULT-VALUE}, the paper's).")
  double topP;

  @Option(names = "--resume", description = "Continue the run in --out from its kept pool.")
  boolean resume;

  /** Tokens per instruction-list continuation and per instance continuation. */
  static final int INSTRUCTION_TOKENS = 128, INSTANCE_TOKENS = 128;

  @Override
  public Integer call() throws IOException {
    SelfInstruct.Options options = options();
    checkOutDir();
    List<SeedTask> seedTasks = SeedLoader.load(seeds);
    PrintWriter err = spec.commandLine().getErr();
    err.printf("%d seed tasks from %s%n", seedTasks.size(), seeds);
    ModelArgs args = ModelArgs.of(model, adapter);
    CausalLm lm = args.load();
    try (Tokenizer tok = Tokenizer.load(args.tokenizer())) {
      Files.createDirectories(out);
      PoolStore store = new PoolStore(out);
      AtomicBoolean stop = new AtomicBoolean();
      SelfInstruct run =
          new SelfInstruct(
              new GeneratorSampler(lm, tok, Math.max(GeneratorSampler.ROWS, batchSize)),
              seedTasks,
              options,
              store,
              stop,
              err);
      if (resume) {
        PoolStore.Saved saved = store.resume();
        checkSameRun(saved.options(), options);
        run.restore(saved);
        err.printf(
            "resuming after round %d with %d kept%n", saved.roundsDone(), saved.kept().size());
      }
      installInterruptHandler(stop, err);
      SelfInstruct.Outcome o = run.run();
      String message = message(o, options);
      CollectionWriter.write(out, o.kept(), source(), license());
      PoolStore.writeAtomically(
          out.resolve(REPORT),
          report(o, options, seedTasks.size(), message).toPrettyString() + "\n");
      err.println(message);
      spec.commandLine()
          .getOut()
          .println(
              o.kept().isEmpty()
                  ? "nothing kept; report: " + out.resolve(REPORT)
                  : "collection: "
                      + out
                      + " (use --tasks "
                      + out
                      + "); report: "
                      + out.resolve(REPORT));
      return o.end() == SelfInstruct.End.INTERRUPTED
          ? FlanTuneException.Kind.RUN_FAILED.exitCode
          : 0;
    }
  }

  private SelfInstruct.Options options() {
    if (instructions < 1) throw FlanTuneException.badUsage("--instructions must be >= 1");
    if (batchSize < 1) throw FlanTuneException.badUsage("--batch-size must be >= 1");
    int max = maxCandidates == null ? Math.multiplyExact(20, instructions) : maxCandidates;
    if (max < 1) throw FlanTuneException.badUsage("--max-candidates must be >= 1");
    if (!(temperature >= 0) || Double.isInfinite(temperature))
      throw FlanTuneException.badUsage("--temperature must be finite and >= 0");
    if (!(topP > 0 && topP <= 1)) throw FlanTuneException.badUsage("--top-p must be in (0, 1]");
    return new SelfInstruct.Options(
        instructions, max, seed, batchSize, temperature, topP, INSTRUCTION_TOKENS, INSTANCE_TOKENS);
  }

  private void checkOutDir() throws IOException {
    if (resume || !Files.isDirectory(out)) return;
    try (Stream<Path> s = Files.list(out)) {
      if (s.findAny().isPresent())
        throw FlanTuneException.badUsage(
            out + " is not empty: pass --resume to continue that run, or choose another --out");
    }
  }

  private static void checkSameRun(ObjectNode saved, SelfInstruct.Options now) {
    String k = SelfInstruct.changedOption(saved, now);
    if (k != null)
      throw FlanTuneException.badUsage(
          "--resume: "
              + k
              + " was "
              + saved.path(k).asText("(missing)")
              + " in the saved run, now "
              + SelfInstruct.fingerprintOf(now).get(k).asText()
              + "; resume with the same options");
  }

  private String source() {
    return "Generated with flan-tune self-instruct (Self-Instruct, Wang et al., 2022) by the model "
        + model
        + " from the seed tasks "
        + seeds
        + " (seed "
        + seed
        + ")";
  }

  private String license() {
    return "Machine-generated: the terms of the model "
        + model
        + " and of the seeds "
        + seeds
        + " apply";
  }

  private static String message(SelfInstruct.Outcome o, SelfInstruct.Options opt) {
    int k = o.kept().size();
    return switch (o.end()) {
      case REACHED -> "kept " + k + " of " + opt.instructions() + " instructions";
      case MAX_CANDIDATES ->
          "kept only "
              + k
              + " of "
              + opt.instructions()
              + " instructions: stopped at --max-candidates "
              + opt.maxCandidates()
              + " (a weak model, or filters too strict for it)";
      case INTERRUPTED ->
          "interrupted: kept "
              + k
              + " of "
              + opt.instructions()
              + " instructions; continue with --resume";
    };
  }

  private ObjectNode report(
      SelfInstruct.Outcome o, SelfInstruct.Options opt, int seedCount, String message) {
    ObjectNode r = Jsonl.JSON.createObjectNode();
    r.put("model", model.toString());
    r.putNull("adapter");
    r.put("seeds", seeds.toString());
    r.put("seed_tasks", seedCount);
    r.put("requested_instructions", opt.instructions());
    r.put("max_candidates", opt.maxCandidates());
    r.put("kept_instructions", o.kept().size());
    r.put("end", o.end().name().toLowerCase(java.util.Locale.ROOT));
    r.put("message", message);
    r.set("options", SelfInstruct.fingerprintOf(opt));
    r.put("rouge_l_threshold", SelfInstruct.ROUGE_L_THRESHOLD);
    r.setAll(o.tally().toJson());
    return r;
  }

  /** First Ctrl-C or SIGTERM: finish the round and write what was kept. Second: exit now. */
  private static void installInterruptHandler(AtomicBoolean stop, PrintWriter err) {
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name),
            sig -> {
              err.println("\nSIG" + name + ": finishing this round, then writing what was kept");
              err.flush();
              stop.set(true);
              sun.misc.Signal.handle(new sun.misc.Signal(name), sun.misc.SignalHandler.SIG_DFL);
            });
      } catch (IllegalArgumentException e) {
        // the signal is ignored or reserved here: it then cannot interrupt the run at all
      }
    }
  }
}
