package dev.flantune.cli;

import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.checkpoint.Safetensors;
import dev.flantune.checkpoint.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA run through the commands a user runs: train with {@code lora:} (dropout on, so resume must
 * replay its masks), resume, then score, generate and eval with {@code --adapter}, merge, and the
 * one-line errors for adapters and configs that do not fit.
 */
class LoraCommandsTest {
  static final Path TOKENIZER = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  static final Path TASKS = Path.of("src/test/resources/tasks").toAbsolutePath();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path initLlama(Path out) {
    CliTest.Run init = CliTest.initLlama(out, "llama");
    assertEquals(0, init.code(), init.err());
    return out;
  }

  private Path config(Path base, String lora) throws IOException {
    Path yaml = dir.resolve("lora-" + Math.abs(lora.hashCode()) + ".yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "model: " + base.toAbsolutePath(),
            "lora: " + lora,
            "data: {objective: instruction, tasks: "
                + TASKS
                + ", held_out: [sentiment], max_length: 128, packing: true,"
                + " validation_examples: 4}",
            "train: {steps: 4, batch_size: 2, lr: 2.0e-2, warmup: 1, checkpoint_every: 2,"
                + " eval_every: 4}",
            "eval: {max_examples: 2}",
            ""));
    return yaml;
  }

  static String sha(Path file) throws Exception {
    return HexFormat.of()
        .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
  }

  @Test
  void trainResumeScoreGenerateEvalMerge() throws Exception {
    Path base = initLlama(dir.resolve("base"));
    String baseSha = sha(base.resolve("model.safetensors"));
    Path yaml =
        config(base, "{r: 4, alpha: 8, dropout: 0.1, target_modules: [q_proj, v_proj, down_proj]}");
    Path full = dir.resolve("full"), part = dir.resolve("part");
    CliTest.Run train = run("train", "--config", yaml.toString(), "--out", full.toString());
    assertEquals(0, train.code(), train.err());
    assertTrue(train.err().contains("LoRA: r=4 on 6 modules"), train.err());

    // final/ is the adapter in PEFT's layout, with the tokenizer, and no copy of the base.
    Path fin = full.resolve("final");
    assertTrue(Files.exists(fin.resolve("tokenizer.json")));
    assertFalse(Files.exists(fin.resolve("model.safetensors")), "no copy of the base");
    JsonNode ac = JSON.readTree(fin.resolve("adapter_config.json").toFile());
    assertEquals("LORA", ac.get("peft_type").asText());
    assertEquals("CAUSAL_LM", ac.get("task_type").asText());
    assertEquals(4, ac.get("r").asInt());
    assertEquals(8, ac.get("lora_alpha").asInt());
    assertEquals(0.1, ac.get("lora_dropout").asDouble());
    assertEquals("none", ac.get("bias").asText());
    assertFalse(ac.get("fan_in_fan_out").asBoolean());
    assertFalse(ac.get("use_rslora").asBoolean());
    assertEquals(base.toAbsolutePath().toString(), ac.get("base_model_name_or_path").asText());
    Map<String, Tensor> tensors = Safetensors.read(fin.resolve("adapter_model.safetensors"));
    assertEquals(12, tensors.size());
    String q = "base_model.model.model.layers.0.self_attn.q_proj.";
    assertArrayEquals(new long[] {4, 32}, tensors.get(q + "lora_A.weight").shape());
    assertArrayEquals(new long[] {32, 4}, tensors.get(q + "lora_B.weight").shape());
    assertArrayEquals(
        new long[] {16, 4},
        tensors.get("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight").shape());
    int inter =
        JSON.readTree(base.resolve("config.json").toFile()).get("intermediate_size").asInt();
    assertArrayEquals(
        new long[] {4, inter},
        tensors.get("base_model.model.model.layers.1.mlp.down_proj.lora_A.weight").shape());
    float maxB = 0;
    for (float v : tensors.get(q + "lora_B.weight").data()) maxB = Math.max(maxB, Math.abs(v));
    assertTrue(maxB > 0, "B moved off zero: the adapter trained");
    assertEquals(baseSha, sha(base.resolve("model.safetensors")), "the base is never written");
    assertTrue(Files.exists(full.resolve("eval/report.json")), "training ends with eval");

    // Resume (dropout masks included) equals the uninterrupted run, bit for bit.
    CliTest.Run first =
        run("train", "--config", yaml.toString(), "--out", part.toString(), "train.steps=2");
    assertEquals(0, first.code(), first.err());
    CliTest.Run resumed =
        run("train", "--config", yaml.toString(), "--out", part.toString(), "--resume");
    assertEquals(0, resumed.code(), resumed.err());
    Map<String, Tensor> other = Safetensors.read(part.resolve("final/adapter_model.safetensors"));
    for (String k : tensors.keySet())
      assertArrayEquals(tensors.get(k).data(), other.get(k).data(), 0f, "resumed " + k);

    // score: base + adapter = the merged checkpoint = the run's final/ alone (its base found).
    Path in = dir.resolve("in.jsonl");
    Files.writeString(
        in,
        "{\"prompt\": \"The capital of France is\", \"completion\": \" Paris\"}\n"
            + "{\"prompt\": \"Review: great fun.\", \"completion\": \" positive\"}\n");
    CliTest.Run withAdapter =
        run(
            "score",
            "--model",
            base.toString(),
            "--adapter",
            fin.toString(),
            "--input",
            in.toString());
    assertEquals(0, withAdapter.code(), withAdapter.err());
    CliTest.Run alone = run("score", "--model", fin.toString(), "--input", in.toString());
    assertEquals(0, alone.code(), alone.err());
    CliTest.Run plain = run("score", "--model", base.toString(), "--input", in.toString());
    Path merged = dir.resolve("merged");
    CliTest.Run merge =
        run(
            "merge",
            "--model",
            base.toString(),
            "--adapter",
            fin.toString(),
            "--out",
            merged.toString());
    assertEquals(0, merge.code(), merge.err());
    assertTrue(
        Files.exists(merged.resolve("config.json"))
            && Files.exists(merged.resolve("tokenizer.json")));
    CliTest.Run mergedScore = run("score", "--model", merged.toString(), "--input", in.toString());
    assertEquals(0, mergedScore.code(), mergedScore.err());
    double[] a = logprobs(withAdapter.out()), b = logprobs(alone.out());
    double[] m = logprobs(mergedScore.out()), p = logprobs(plain.out());
    for (int i = 0; i < a.length; i++) {
      assertEquals(m[i], a[i], 1e-4, "adapter vs merged checkpoint");
      assertEquals(a[i], b[i], 0.0, "--model final alone finds its base");
      assertNotEquals(p[i], a[i], "the adapter changes the scores");
    }

    CliTest.Run gen =
        run(
            "generate",
            "--model",
            base.toString(),
            "--adapter",
            fin.toString(),
            "--prompt",
            "Hello",
            "--max-new-tokens",
            "5");
    assertEquals(0, gen.code(), gen.err());
    CliTest.Run genMerged =
        run("generate", "--model", merged.toString(), "--prompt", "Hello", "--max-new-tokens", "5");
    assertEquals(genMerged.out(), gen.out(), "greedy text with the adapter = the merged model's");

    CliTest.Run eval =
        run(
            "eval",
            "--held-out",
            "sentiment",
            "--model",
            base.toString(),
            "--adapter",
            fin.toString(),
            "--base",
            "--tasks",
            TASKS.toString(),
            "--out",
            dir.resolve("eval").toString(),
            "--max-examples",
            "2",
            "--no-generative");
    assertEquals(0, eval.code(), eval.err());
    JsonNode report = JSON.readTree(dir.resolve("eval/report.json").toFile());
    assertTrue(report.toString().contains("base"), "base vs tuned report");
  }

  static double[] logprobs(String out) throws IOException {
    var lines = out.lines().filter(l -> !l.isBlank()).toList();
    double[] lp = new double[lines.size()];
    for (int i = 0; i < lp.length; i++)
      lp[i] = JSON.readTree(lines.get(i)).get("logprob").asDouble();
    return lp;
  }

  @Test
  void gpt2TargetsBothCProjAndAllLinear() throws Exception {
    Path base = dir.resolve("gpt2");
    CliTest.Run init = CliTest.initTiny(base, 128);
    assertEquals(0, init.code(), init.err());
    Path yaml = config(base, "{r: 2, alpha: 4, target_modules: [c_proj]}");
    CliTest.Run train =
        run(
            "train",
            "--config",
            yaml.toString(),
            "--out",
            dir.resolve("g").toString(),
            "train.steps=2",
            "data.held_out=[]");
    assertEquals(0, train.code(), train.err());
    Path fin = dir.resolve("g/final");
    JsonNode ac = JSON.readTree(fin.resolve("adapter_config.json").toFile());
    assertTrue(ac.get("fan_in_fan_out").asBoolean(), "GPT-2's Conv1D");
    Map<String, Tensor> t = Safetensors.read(fin.resolve("adapter_model.safetensors"));
    assertTrue(t.containsKey("base_model.model.transformer.h.0.attn.c_proj.lora_A.weight"));
    assertTrue(t.containsKey("base_model.model.transformer.h.0.mlp.c_proj.lora_A.weight"));
    assertEquals(4, t.size(), "attn.c_proj and mlp.c_proj (one layer)");
  }

  @Test
  void aBf16BaseTrainsAnAdapterAndTheFullFineTuneIsRefused() throws Exception {
    Path base = initLlama(dir.resolve("base"));
    Path yaml = config(base, "{r: 4, alpha: 8}");
    CliTest.Run train =
        run(
            "train",
            "--config",
            yaml.toString(),
            "--out",
            dir.resolve("b").toString(),
            "model_dtype=bf16",
            "train.steps=2");
    assertEquals(0, train.code(), train.err());
    Map<String, Tensor> t = Safetensors.read(dir.resolve("b/final/adapter_model.safetensors"));
    assertEquals(8, t.size(), "q_proj and v_proj by default, two layers");
    assertTrue(
        Files.exists(dir.resolve("b/eval/report.json")), "evaluated on the merged f32 model");
    CliTest.Run full =
        run(
            "train",
            "--config",
            yaml.toString(),
            "--out",
            dir.resolve("f").toString(),
            "model_dtype=bf16",
            "lora=null");
    CliTest.assertOneLineError(full, 2, "model_dtype", "LoRA");
  }

  @Test
  void errorsNameTheProblem() throws Exception {
    Path base = initLlama(dir.resolve("base"));
    // A target module the family does not have: a config error (exit 2) naming the key.
    CliTest.Run wrong =
        run(
            "train",
            "--config",
            config(base, "{r: 4, target_modules: [c_attn]}").toString(),
            "--out",
            dir.resolve("w").toString());
    CliTest.assertOneLineError(wrong, 2, "lora.target_modules", "q_proj");

    // An adapter directory without adapter_config.json.
    Path empty = Files.createDirectories(dir.resolve("empty"));
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"prompt\": \"a\", \"completion\": \" b\"}\n");
    CliTest.Run missing =
        run(
            "score",
            "--model",
            base.toString(),
            "--adapter",
            empty.toString(),
            "--input",
            in.toString());
    assertEquals(3, missing.code(), missing.err());
    assertTrue(missing.err().contains("adapter_config.json"), missing.err());

    // An adapter made for another base (r and shapes fit another width).
    Path other = dir.resolve("other");
    run(
        "init",
        "--arch",
        "llama",
        "--tokenizer",
        TOKENIZER.toString(),
        "--out",
        other.toString(),
        "--layers",
        "2",
        "--heads",
        "4",
        "--kv-heads",
        "2",
        "--embd",
        "48",
        "--positions",
        "256");
    CliTest.Run trained =
        run(
            "train",
            "--config",
            config(other, "{r: 4}").toString(),
            "--out",
            dir.resolve("o").toString(),
            "train.steps=1",
            "data.held_out=[]");
    assertEquals(0, trained.code(), trained.err());
    CliTest.Run mismatch =
        run(
            "score",
            "--model",
            base.toString(),
            "--adapter",
            dir.resolve("o/final").toString(),
            "--input",
            in.toString());
    assertEquals(3, mismatch.code(), mismatch.err());
    assertTrue(
        mismatch.err().contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"),
        mismatch.err());

    // An unknown target module in an adapter's config.
    Path bad = dir.resolve("bad");
    Files.createDirectories(bad);
    Files.copy(
        dir.resolve("o/final/adapter_model.safetensors"), bad.resolve("adapter_model.safetensors"));
    String cfg = Files.readString(dir.resolve("o/final/adapter_config.json"));
    Files.writeString(bad.resolve("adapter_config.json"), cfg.replace("\"q_proj\"", "\"qq_proj\""));
    CliTest.Run unknown =
        run(
            "score",
            "--model",
            base.toString(),
            "--adapter",
            bad.toString(),
            "--input",
            in.toString());
    assertEquals(3, unknown.code(), unknown.err());
    assertTrue(
        unknown.err().contains("qq_proj") && unknown.err().contains("adapter_config.json"),
        unknown.err());
  }
}
