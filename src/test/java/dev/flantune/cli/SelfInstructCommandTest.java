package dev.flantune.cli;

import static dev.flantune.cli.CliTest.assertOneLineError;
import static dev.flantune.cli.CliTest.run;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code self-instruct} as users meet it: refused options and bad seed files, one line each. */
class SelfInstructCommandTest {
  @TempDir Path dir;
  static final String BASE = "data/models/flan-tune-tiny-base";
  static final String SEEDS = "data/self-instruct/seeds.jsonl";

  @Test
  void anAdapterDirectoryWithoutItsConfigIsNamed() {
    CliTest.Run r =
        run(
            "self-instruct",
            "--model",
            BASE,
            "--adapter",
            dir.toString(),
            "--seeds",
            SEEDS,
            "--out",
            dir.resolve("o").toString(),
            "--instructions",
            "2");
    assertOneLineError(r, 3, "adapter_config.json");
  }

  @Test
  void aMalformedSeedFileNamesFileAndLine() throws Exception {
    Path seeds = dir.resolve("seeds.jsonl");
    Files.writeString(
        seeds,
        "{\"instruction\": \"Do a thing now.\", \"instances\": [{\"output\": \"ok\"}]}\n"
            + "{\"instruction\": 3}\n");
    CliTest.Run r =
        run(
            "self-instruct",
            "--model",
            BASE,
            "--seeds",
            seeds.toString(),
            "--out",
            dir.resolve("o").toString(),
            "--instructions",
            "2");
    assertOneLineError(r, 3, seeds + ":2:", "instruction");
  }

  @Test
  void aNonEmptyOutputNeedsResumeAndResumeNeedsAState() throws Exception {
    Path out = Files.createDirectories(dir.resolve("o"));
    Files.writeString(out.resolve("x"), "x");
    String[] args = {
      "self-instruct",
      "--model",
      BASE,
      "--seeds",
      SEEDS,
      "--out",
      out.toString(),
      "--instructions",
      "2"
    };
    assertOneLineError(run(args), 2, "not empty", "--resume");
    String[] resume = java.util.Arrays.copyOf(args, args.length + 1);
    resume[args.length] = "--resume";
    assertOneLineError(run(resume), 2, "state.json not found");
    assertOneLineError(
        run(
            "self-instruct",
            "--model",
            BASE,
            "--seeds",
            SEEDS,
            "--out",
            out.toString(),
            "--instructions",
            "0"),
        2,
        "--instructions");
  }

  @Test
  void theShippedSeedsLoad() {
    assertEquals(20, dev.flantune.selfinstruct.SeedLoader.load(Path.of(SEEDS)).size());
  }

  /**
   * End to end on the shipped base: the grown collection is one that {@code tasks} lists and {@code
   * train} instruction-tunes on (what it says is the tiny base's; the pipeline is the point).
   */
  @Test
  void theGrownCollectionLoadsAndTrains() throws Exception {
    Path out = dir.resolve("grown");
    CliTest.Run grow =
        run(
            "self-instruct",
            "--model",
            BASE,
            "--seeds",
            SEEDS,
            "--out",
            out.toString(),
            "--instructions",
            "4",
            "--max-candidates",
            "16",
            "--seed",
            "1");
    assertEquals(0, grow.code(), grow.err());
    var report =
        new com.fasterxml.jackson.databind.ObjectMapper()
            .readTree(out.resolve("self_instruct_report.json").toFile());
    int kept = report.get("kept_instructions").asInt();
    assertTrue(kept > 0, "the shipped base keeps some instructions with seed 1: " + report);
    assertEquals(kept, Files.readAllLines(out.resolve("alpaca.jsonl")).size());
    CliTest.Run tasks = run("tasks", "--tasks", out.toString(), "--format", "json");
    assertEquals(0, tasks.code(), tasks.err());
    assertTrue(tasks.out().contains("self_instruct"), tasks.out());
    Path cfg = dir.resolve("train.yaml");
    Files.writeString(
        cfg,
        "model: "
            + Path.of(BASE).toAbsolutePath()
            + "\ndata: {objective: instruction, tasks: "
            + out.toAbsolutePath()
            + ", max_length: 128, validation_examples: 1}\n"
            + "train: {steps: 2, batch_size: 2, lr: 1.0e-4, warmup: 1, checkpoint_every: 2,"
            + " eval_every: 2}\n");
    CliTest.Run train =
        run("train", "--config", cfg.toString(), "--out", dir.resolve("run").toString());
    assertEquals(0, train.code(), train.err());
    assertTrue(Files.exists(dir.resolve("run/final/model.safetensors")));
  }
}
