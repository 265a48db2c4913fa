package dev.flantune.cli;

import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Decoder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A Llama-family model through the commands a user runs: init (GQA, RoPE, a SentencePiece tokenizer
 * with byte fallback and BOS), train with instruction packing and resume, score, generate and eval,
 * with the final checkpoint loadable and its special-token files kept.
 */
class LlamaCommandsTest {
  static final Path TOKENIZER = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  static final Path TASKS = Path.of("src/test/resources/tasks").toAbsolutePath();

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"llama", "qwen2"})
  void initTrainResumeScoreGenerateEval(String arch) throws IOException {
    Path base = dir.resolve("base");
    CliTest.Run init = CliTest.initLlama(base, arch);
    assertEquals(0, init.code(), init.err());
    assertTrue(init.out().contains("KV=2"), init.out());
    assertTrue(Files.exists(base.resolve("tokenizer_config.json")), "special tokens kept");
    assertTrue(Files.exists(base.resolve("generation_config.json")), "stop ids kept");
    JsonNode cfg = new ObjectMapper().readTree(base.resolve("config.json").toFile());
    assertEquals(arch, cfg.get("model_type").asText());
    assertEquals(2, cfg.get("num_key_value_heads").asInt());

    Path yaml = dir.resolve("run.yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "model: " + base.toAbsolutePath(),
            "data: {objective: instruction, tasks: "
                + TASKS
                + ", held_out: [sentiment], max_length: 128, packing: true,"
                + " validation_examples: 4}",
            "train: {steps: 4, batch_size: 2, lr: 1.0e-2, warmup: 1, checkpoint_every: 2,"
                + " eval_every: 4}",
            "eval: {max_examples: 2}",
            ""));
    Path full = dir.resolve("full"), part = dir.resolve("part");
    CliTest.Run train = run("train", "--config", yaml.toString(), "--out", full.toString());
    assertEquals(0, train.code(), train.err());
    assertTrue(Files.exists(full.resolve("eval/report.json")), "training ends with eval");
    CliTest.Run first =
        run("train", "--config", yaml.toString(), "--out", part.toString(), "train.steps=2");
    assertEquals(0, first.code(), first.err());
    CliTest.Run resumed =
        run("train", "--config", yaml.toString(), "--out", part.toString(), "--resume");
    assertEquals(0, resumed.code(), resumed.err());
    var a = dev.flantune.model.Checkpoints.load(full.resolve("final")).weights();
    var b = dev.flantune.model.Checkpoints.load(part.resolve("final")).weights();
    for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), 0f, k);

    Path fin = full.resolve("final");
    Path in = dir.resolve("in.jsonl");
    Files.writeString(
        in, "{\"prompt\": \"The capital of France is\", \"completion\": \" Paris\"}\n");
    CliTest.Run score = run("score", "--model", fin.toString(), "--input", in.toString());
    assertEquals(0, score.code(), score.err());
    JsonNode s = new ObjectMapper().readTree(score.out().lines().findFirst().orElseThrow());
    assertTrue(s.get("logprob").asDouble() < 0 && s.get("tokens").asInt() > 0, s.toString());

    CliTest.Run gen =
        run("generate", "--model", fin.toString(), "--prompt", "Hello", "--max-new-tokens", "5");
    assertEquals(0, gen.code(), gen.err());

    CliTest.Run eval =
        run(
            "eval",
            "--held-out",
            "sentiment",
            "--model",
            fin.toString(),
            "--base",
            base.toString(),
            "--tasks",
            TASKS.toString(),
            "--out",
            dir.resolve("eval").toString(),
            "--max-examples",
            "2");
    assertEquals(0, eval.code(), eval.err());
    assertTrue(Files.exists(dir.resolve("eval/report.json")));

    // The decoder that generate used agrees with the full forward on the trained model.
    CausalLm lm = CausalLm.load(fin);
    int[] ids = {1, 40, 41, 42, 43, 44};
    float[] cached = Decoder.forModel(lm).append(ids);
    float[] full5 =
        lm.logits(dev.flantune.model.TinyModels.row(ids)).getRow(ids.length - 1).toFloatVector();
    for (int j = 0; j < full5.length; j++) assertEquals(full5[j], cached[j], 1e-4);
  }
}
