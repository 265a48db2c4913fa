package dev.flantune.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.ConfigTree;
import dev.flantune.config.RunConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stopped run resumed with --resume ends bit-identical to an uninterrupted one: same losses, same
 * final weights. Covers a clean stop (Ctrl-C) and a crash that left a half-written checkpoint.
 */
class ResumeTest {
  @TempDir Path dir;

  /** The init keys of a tiny model of each family (GQA with one KV head for Llama). */
  static String arch(String arch) {
    return arch.equals("gpt2") ? "" : ", arch: " + arch + ", kv_heads: 1, inter: 24";
  }

  Path config() throws IOException {
    return config("gpt2");
  }

  Path config(String arch) throws IOException {
    Path text = Path.of("src/test/resources/text").toAbsolutePath();
    Path tok = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json").toAbsolutePath();
    Path cfg = dir.resolve("run.yaml");
    Files.writeString(
        cfg,
        String.join(
            "\n",
            "init: {tokenizer: "
                + tok
                + ", layers: 1, heads: 2, embd: 16, positions: 32"
                + arch(arch)
                + "}",
            "seed: 3",
            "data:",
            "  objective: causal_lm",
            "  text: {train: ["
                + text.resolve("tiny-train.txt")
                + "], validation: ["
                + text.resolve("tiny-validation.txt")
                + "]}",
            "  max_length: 16",
            "  validation_examples: 8",
            "train: {steps: 6, batch_size: 2, grad_accum: 2, lr: 1.0e-2, warmup: 2, checkpoint_every: 2, keep_checkpoints: 5, eval_every: 3}",
            ""));
    return cfg;
  }

  TrainRecipe.Summary run(Path cfgFile, Path out, boolean resume, AtomicBoolean stop)
      throws IOException {
    RunConfig cfg = ConfigLoader.load(cfgFile, List.of());
    Progress p = new Progress(new PrintWriter(new StringWriter()), false, 1);
    return new TrainRecipe(cfg, ConfigTree.yaml(cfg), p, stop).run(out, resume);
  }

  static List<String> losses(Path run) throws IOException {
    return Files.readAllLines(run.resolve(RunDir.METRICS)).stream()
        .map(l -> l.replaceAll("\"(step_s|tokens_per_s)\":[^,}]*,?", ""))
        .toList();
  }

  static void assertSameWeights(Path a, Path b) {
    var wa = dev.flantune.model.Checkpoints.load(a).weights();
    var wb = dev.flantune.model.Checkpoints.load(b).weights();
    for (String k : wa.keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), 0f, k);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"gpt2", "llama"})
  void stoppedAndResumedEqualsUninterrupted(String arch) throws IOException {
    Path cfg = config(arch);
    TrainRecipe.Summary full = run(cfg, dir.resolve("full"), false, new AtomicBoolean());
    assertEquals(6, full.outcome().stepsDone());

    AtomicBoolean stop = new AtomicBoolean(true); // as if Ctrl-C arrived during the first step
    TrainRecipe.Summary part = run(cfg, dir.resolve("part"), false, stop);
    assertTrue(part.outcome().stopped());
    assertEquals(1, part.outcome().stepsDone());
    assertTrue(
        Files.isDirectory(dir.resolve("part/checkpoints/step-00000001")),
        "Ctrl-C writes a checkpoint");

    var refused =
        assertThrows(
            dev.flantune.util.FlanTuneException.class,
            () -> run(cfg, dir.resolve("part"), false, new AtomicBoolean()));
    assertTrue(refused.getMessage().contains("--resume"));

    TrainRecipe.Summary resumed = run(cfg, dir.resolve("part"), true, new AtomicBoolean());
    assertFalse(resumed.outcome().stopped());
    assertEquals(losses(full.runDir()), losses(resumed.runDir()));
    assertSameWeights(full.finalModel(), resumed.finalModel());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"gpt2", "qwen2"})
  void instructionTuningWithPackingResumesExactly(String arch) throws IOException {
    Path tok = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json").toAbsolutePath();
    Path tasks = Path.of("src/test/resources/tasks").toAbsolutePath();
    Path cfg = dir.resolve("instr.yaml");
    Files.writeString(
        cfg,
        String.join(
            "\n",
            "init: {tokenizer: "
                + tok
                + ", layers: 1, heads: 2, embd: 16, positions: 128"
                + arch(arch)
                + "}",
            "data: {objective: instruction, tasks: "
                + tasks
                + ", held_out: [nli], max_length: 128, packing: true, validation_examples: 6}",
            "train: {steps: 5, batch_size: 2, lr: 1.0e-2, warmup: 1, checkpoint_every: 2, eval_every: 5}",
            ""));
    TrainRecipe.Summary full = run(cfg, dir.resolve("ifull"), false, new AtomicBoolean());
    TrainRecipe.Summary part = run(cfg, dir.resolve("ipart"), false, new AtomicBoolean(true));
    assertTrue(part.outcome().stopped());
    TrainRecipe.Summary resumed = run(cfg, dir.resolve("ipart"), true, new AtomicBoolean());
    assertEquals(losses(full.runDir()), losses(resumed.runDir()));
    assertSameWeights(full.finalModel(), resumed.finalModel());
    assertTrue(Files.readString(full.runDir().resolve(RunDir.METRICS)).contains("val_loss"));
  }

  @Test
  void trainingEndsWithTheHeldOutEvaluationBaseAgainstTuned() throws IOException {
    Path tok = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json").toAbsolutePath();
    Path base = dir.resolve("base");
    var c = dev.flantune.model.family.Gpt2Family.of(507, 128, 16, 1, 2, 506);
    dev.flantune.model.Checkpoints.save(
        base,
        c,
        dev.flantune.model.ModelInit.randomWeights(c, 4),
        dev.flantune.checkpoint.DType.F32,
        tok);
    Path cfg = dir.resolve("eval.yaml");
    Files.writeString(
        cfg,
        String.join(
            "\n",
            "model: " + base,
            "data: {objective: instruction, tasks: "
                + Path.of("src/test/resources/tasks").toAbsolutePath()
                + ", held_out: [nli], max_length: 128}",
            "train: {steps: 2, batch_size: 2, lr: 1.0e-2, warmup: 1, checkpoint_every: 2, eval_every: 0}",
            "eval: {max_examples: 2}",
            ""));
    TrainRecipe.Summary s = run(cfg, dir.resolve("withEval"), false, new AtomicBoolean());
    assertNotNull(s.heldOut());
    Path report = s.runDir().resolve("eval/report.json");
    var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(report.toFile());
    String text = json.toString();
    assertTrue(text.contains("\"nli\""), text);
    assertTrue(
        text.contains("\"base\"") && text.contains("\"tuned\""),
        "both models are in the report: " + text);
    assertTrue(Files.size(s.runDir().resolve("eval/predictions.jsonl")) > 0);
    assertTrue(Files.exists(s.runDir().resolve("eval/report.html")));
  }

  @Test
  void unknownHeldOutClusterIsAUsageError() throws IOException {
    Path tok = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json").toAbsolutePath();
    Path cfg = dir.resolve("bad.yaml");
    Files.writeString(
        cfg,
        "init: {tokenizer: "
            + tok
            + ", layers: 1, heads: 2, embd: 16, positions: 64}\n"
            + "data: {objective: instruction, tasks: "
            + Path.of("src/test/resources/tasks").toAbsolutePath()
            + ", held_out: [nlii]}\n");
    var e =
        assertThrows(
            dev.flantune.util.FlanTuneException.class,
            () -> run(cfg, dir.resolve("bad"), false, new AtomicBoolean()));
    assertEquals(dev.flantune.util.FlanTuneException.Kind.BAD_USAGE, e.kind());
    assertTrue(
        e.getMessage().contains("no cluster 'nlii'") && e.getMessage().contains("nli"),
        e.getMessage());
  }

  @Test
  void crashAfterACheckpointResumesFromTheLastCompleteOne() throws IOException {
    Path cfg = config();
    TrainRecipe.Summary full = run(cfg, dir.resolve("full"), false, new AtomicBoolean());
    // A second run "crashes" after step 4: drop everything written later, and leave a half-written
    // checkpoint.
    Path crashed = dir.resolve("crashed");
    run(cfg, crashed, false, new AtomicBoolean());
    RunDir.deleteTree(crashed.resolve("final"));
    RunDir.deleteTree(crashed.resolve("checkpoints/step-00000006"));
    Path half = Files.createDirectories(crashed.resolve("checkpoints/.tmp-step-00000006-999"));
    Files.writeString(half.resolve("model.safetensors"), "partial");
    Path incomplete = Files.createDirectories(crashed.resolve("checkpoints/step-00000007"));
    Files.writeString(
        incomplete.resolve("config.json"), "{}"); // no trainer_state.json: not complete

    TrainRecipe.Summary resumed = run(cfg, crashed, true, new AtomicBoolean());
    assertEquals(losses(full.runDir()), losses(resumed.runDir()));
    assertSameWeights(full.finalModel(), resumed.finalModel());
  }

  @Test
  void checkpointsAreLoadableModelsAndPrunedToKeep() throws IOException {
    Path cfg = config();
    Files.writeString(
        cfg, Files.readString(cfg).replace("keep_checkpoints: 5", "keep_checkpoints: 2"));
    TrainRecipe.Summary s = run(cfg, dir.resolve("keep"), false, new AtomicBoolean());
    RunDir rd = new RunDir(s.runDir());
    assertEquals(
        List.of("step-00000004", "step-00000006"),
        rd.checkpoints().stream().map(p -> p.getFileName().toString()).toList());
    dev.flantune.model.Checkpoints.load(rd.checkpoints().get(0));
    dev.flantune.model.Checkpoints.load(s.finalModel());
    assertTrue(Files.exists(s.runDir().resolve("provenance.json")));
    assertTrue(
        Files.readString(s.runDir().resolve("config.resolved.yaml")).contains("grad_accum: 2"));
    assertTrue(Files.readString(s.runDir().resolve(RunDir.METRICS)).contains("val_loss"));
  }
}
