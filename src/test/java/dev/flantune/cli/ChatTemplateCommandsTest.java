package dev.flantune.cli;

import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code prompt_format: chat_template} as a user runs it: init a tiny Llama-family model whose
 * tokenizer carries a ChatML chat template (Qwen2.5's), render the data with its loss markers,
 * train a few steps through the template, and evaluate with it (by the run's choice, then
 * overridden), the reports saying which format was used. A model without a template is refused in
 * one line before anything runs.
 */
class ChatTemplateCommandsTest {
  static final Path TOKENIZER = Path.of("src/test/resources/tokenizer/qwen2-chatml");
  static final Path NO_TEMPLATE = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  static final Path TASKS = Path.of("src/test/resources/tasks").toAbsolutePath();
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void initRenderTrainAndEvalThroughTheChatTemplate() throws IOException {
    Path base = dir.resolve("base");
    CliTest.Run init =
        run(
            "init",
            "--arch",
            "llama",
            "--tokenizer",
            TOKENIZER.toString(),
            "--out",
            base.toString(),
            "--layers",
            "1",
            "--heads",
            "2",
            "--embd",
            "16",
            "--positions",
            "256",
            "--seed",
            "1");
    assertEquals(0, init.code(), init.err());
    assertTrue(
        Files.readString(base.resolve("tokenizer_config.json")).contains("<|im_start|>"),
        "the chat template travels with the checkpoint");

    Path yaml = dir.resolve("run.yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "model: " + base.toAbsolutePath(),
            "data: {objective: instruction, tasks: "
                + TASKS
                + ", held_out: [nli],"
                + " prompt_format: chat_template, max_length: 256, validation_examples: 4}",
            "train: {steps: 3, batch_size: 2, lr: 1.0e-2, warmup: 1, checkpoint_every: 3,"
                + " eval_every: 3}",
            "eval: {max_examples: 2}",
            ""));

    // render: the mask is visible, on the assistant's replies and end-of-turn tokens only.
    CliTest.Run render =
        run("render", "--config", yaml.toString(), "--task", "chat_demo", "--limit", "1");
    assertEquals(0, render.code(), render.err());
    assertTrue(render.out().contains("⟦Hello.<|im_end|>⟧"), render.out());
    assertTrue(render.out().contains("⟦Apple.<|im_end|>⟧\n"), render.out());
    assertTrue(render.out().contains("<|im_start|>user\nName a fruit.<|im_end|>"), render.out());
    assertFalse(render.out().contains("⟦<|im_start|>"), render.out());
    CliTest.Run jsonl =
        run(
            "render",
            "--config",
            yaml.toString(),
            "--task",
            "tiny_sentiment",
            "--limit",
            "1",
            "--format",
            "jsonl");
    assertEquals(0, jsonl.code(), jsonl.err());
    JsonNode line = JSON.readTree(jsonl.out().lines().findFirst().orElseThrow());
    JsonNode mask = line.get("loss_mask"), ids = line.get("input_ids");
    int ones = 0;
    for (JsonNode m : mask) ones += m.asInt();
    assertTrue(ones >= 2, line.toString());
    assertEquals(
        0, mask.get(mask.size() - 1).asInt(), "the newline after <|im_end|> is not in the loss");
    assertEquals(1, mask.get(mask.size() - 2).asInt(), "…<|im_end|> is");

    // train: through the template, ending with the held-out evaluation in the same format.
    Path out = dir.resolve("run");
    CliTest.Run train = run("train", "--config", yaml.toString(), "--out", out.toString());
    assertEquals(0, train.code(), train.err());
    JsonNode rendering = JSON.readTree(out.resolve("eval/report.json").toFile()).get("rendering");
    assertEquals("chat_template", rendering.get("prompt_format").asText(), rendering.toString());
    String predictions = Files.readString(out.resolve("eval/predictions.jsonl"));
    assertTrue(predictions.contains("<|im_start|>assistant\\n\""), predictions);

    // eval: the run's format by default, stated in the report; --prompt-format overrides it.
    Path evalOut = dir.resolve("eval");
    CliTest.Run eval =
        run(
            "eval",
            "--model",
            out.resolve("final").toString(),
            "--held-out",
            "nli",
            "--tasks",
            TASKS.toString(),
            "--max-examples",
            "2",
            "--out",
            evalOut.toString());
    assertEquals(0, eval.code(), eval.err());
    assertTrue(
        eval.err().contains("prompt format chat_template (the training run's data.prompt_format"),
        eval.err());
    assertTrue(
        Files.readString(evalOut.resolve("report.md")).contains("Prompt format `chat_template`"));
    JsonNode first = JSON.readTree(Files.readAllLines(evalOut.resolve("predictions.jsonl")).get(0));
    assertTrue(first.get("prompt").asText().startsWith("<|im_start|>system\n"), first.toString());
    assertTrue(first.get("prompt").asText().endsWith("<|im_start|>assistant\n"), first.toString());

    Path plainOut = dir.resolve("eval-plain");
    CliTest.Run plain =
        run(
            "eval",
            "--model",
            out.resolve("final").toString(),
            "--held-out",
            "nli",
            "--tasks",
            TASKS.toString(),
            "--max-examples",
            "2",
            "--prompt-format",
            "plain",
            "--out",
            plainOut.toString());
    assertEquals(0, plain.code(), plain.err());
    JsonNode p = JSON.readTree(Files.readAllLines(plainOut.resolve("predictions.jsonl")).get(0));
    assertFalse(p.get("prompt").asText().contains("<|im_start|>"), p.toString());
  }

  @Test
  void aModelWithoutAChatTemplateIsRefusedInOneLine() throws IOException {
    Path yaml = dir.resolve("run.yaml");
    Files.writeString(
        yaml,
        String.join(
            "\n",
            "init: {tokenizer: "
                + NO_TEMPLATE.toAbsolutePath().resolve("tokenizer.json")
                + ", arch: llama, layers: 1, heads: 2, embd: 16, positions: 64}",
            "data: {objective: instruction, tasks: " + TASKS + ", prompt_format: chat_template}",
            ""));
    Path out = dir.resolve("run");
    CliTest.Run train = run("train", "--config", yaml.toString(), "--out", out.toString());
    CliTest.assertOneLineError(
        train,
        2,
        "data.prompt_format: chat_template",
        "tokenizer_config.json",
        "has no 'chat_template'",
        "data.prompt_format: plain");
    assertFalse(Files.exists(out), "refused before the run directory is made");

    CliTest.Run render =
        run(
            "render",
            "--tasks",
            TASKS.toString(),
            "--tokenizer",
            NO_TEMPLATE.toString(),
            "--prompt-format",
            "chat_template");
    CliTest.assertOneLineError(render, 2, "tokenizer_config.json", "has no 'chat_template'");
    CliTest.Run bad =
        run(
            "render",
            "--tasks",
            TASKS.toString(),
            "--tokenizer",
            TOKENIZER.toString(),
            "--prompt-format",
            "chatml");
    CliTest.assertOneLineError(bad, 2, "--prompt-format", "plain, chat_template");
  }
}
