package dev.flantune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as users meet it: exit codes, one-line errors, and the score/init commands. */
class CliTest {
  @TempDir Path dir;
  static final Path TINY_TOKENIZER = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json");

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = FlanTune.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  /** A random 1-layer checkpoint with the tiny tokenizer, written by {@code init}. */
  static Run initTiny(Path out, String... extra) {
    return initTiny(out, 32, extra);
  }

  /**
   * A random 2-layer Llama-family checkpoint ({@code arch}: llama, qwen2, mistral) with 4 heads
   * over 2 KV heads, width 32, 256 positions, seed 1, and the byte-fallback SentencePiece
   * tokenizer.
   */
  static Run initLlama(Path out, String arch) {
    return run(
        "init",
        "--arch",
        arch,
        "--tokenizer",
        "src/test/resources/tokenizer/sp-bytefallback",
        "--out",
        out.toString(),
        "--layers",
        "2",
        "--heads",
        "4",
        "--kv-heads",
        "2",
        "--embd",
        "32",
        "--positions",
        "256",
        "--seed",
        "1");
  }

  /** As {@link #initTiny(Path, String...)} with {@code positions} positions. */
  static Run initTiny(Path out, int positions, String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "init",
                "--tokenizer",
                TINY_TOKENIZER.toString(),
                "--out",
                out.toString(),
                "--layers",
                "1",
                "--heads",
                "2",
                "--embd",
                "16",
                "--positions",
                String.valueOf(positions)));
    args.addAll(List.of(extra));
    return run(args.toArray(new String[0]));
  }

  static void assertOneLineError(Run r, int code, String... fragments) {
    assertEquals(code, r.code, r.err);
    List<String> lines = r.err.lines().filter(l -> l.startsWith("flan-tune: error")).toList();
    assertEquals(1, lines.size(), r.err);
    for (String f : fragments)
      assertTrue(lines.get(0).contains(f), "'" + f + "' in: " + lines.get(0));
    assertFalse(r.err.contains("\tat "), "no stack trace without -x");
  }

  @Test
  void scoreAgreesWithTheReferenceImplementation() throws IOException {
    // BF16, prefixed names, two shards, an untied head and 3 heads: layouts the parity tests do not
    // use.
    Path fixture = Path.of("src/test/resources/score");
    Path out = dir.resolve("scored.jsonl");
    Run r =
        run(
            "score",
            "--model",
            fixture.resolve("model").toString(),
            "--input",
            fixture.resolve("input.jsonl").toString(),
            "--output",
            out.toString(),
            "--batch-size",
            "3");
    assertEquals(0, r.code, r.err);
    ObjectMapper json = new ObjectMapper();
    List<String> want = Files.readAllLines(fixture.resolve("expected.jsonl"));
    List<String> got = Files.readAllLines(out);
    assertEquals(want.size(), got.size());
    boolean sawGreedy = false;
    for (int i = 0; i < want.size(); i++) {
      JsonNode w = json.readTree(want.get(i)), g = json.readTree(got.get(i));
      assertEquals(
          w.get("logprob").asDouble(), g.get("logprob").asDouble(), 1e-3, "line " + (i + 1));
      assertEquals(w.get("tokens").asInt(), g.get("tokens").asInt(), "line " + (i + 1));
      assertEquals(w.get("greedy").asBoolean(), g.get("greedy").asBoolean(), "line " + (i + 1));
      for (String field : List.of("prompt", "completion", "id", "meta"))
        assertEquals(w.get(field), g.get(field), field);
      sawGreedy |= g.get("greedy").asBoolean() && g.get("tokens").asInt() > 0;
    }
    assertTrue(sawGreedy, "the fixture has a line that is the model's greedy continuation");
  }

  @Test
  void initThenScoreOnAFreshCheckpoint() throws IOException {
    Path model = dir.resolve("m");
    Run init = initTiny(model, "--seed", "5");
    assertEquals(0, init.code, init.err);
    assertTrue(
        Files.exists(model.resolve("model.safetensors"))
            && Files.exists(model.resolve("tokenizer.json")));
    Path in = dir.resolve("in.jsonl");
    Files.writeString(
        in,
        "{\"prompt\": \"a b\", \"completion\": \" c\"}\n\n{\"prompt\": \"x\", \"completion\": \" y z\"}\n");
    Run score = run("score", "--model", model.toString(), "--input", in.toString());
    assertEquals(0, score.code, score.err);
    List<String> lines = score.out.lines().toList();
    assertEquals(2, lines.size());
    // A fresh model spreads probability nearly evenly: about ln(1/V) per token.
    JsonNode first = new ObjectMapper().readTree(lines.get(0));
    assertEquals(
        -Math.log(507) * first.get("tokens").asInt(),
        first.get("logprob").asDouble(),
        0.5 * first.get("tokens").asInt());
    assertOneLineError(
        run("init", "--tokenizer", TINY_TOKENIZER.toString(), "--out", model.toString()),
        2,
        "not empty");
  }

  @Test
  void badCheckpointIsExitThreeWithOneLine() throws IOException {
    Path model = dir.resolve("broken");
    Files.createDirectories(model);
    Files.writeString(
        model.resolve("config.json"),
        "{\"n_embd\": 16, \"n_layer\": 1, \"n_head\": 2, \"vocab_size\": 507, \"n_positions\": 32}");
    Files.write(model.resolve("model.safetensors"), new byte[] {2, 0, 0, 0, 0, 0, 0, 0, '{', '}'});
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"prompt\": \"a\", \"completion\": \"b\"}\n");
    assertOneLineError(
        run("score", "--model", model.toString(), "--input", in.toString()),
        3,
        "model.safetensors",
        "missing tensor");
    Run traced = run("score", "-x", "--model", model.toString(), "--input", in.toString());
    assertTrue(traced.err.contains("\tat "), "-x prints the stack trace");
  }

  @Test
  void badInputLinesNameFileLineAndField() throws IOException {
    Path model = dir.resolve("m");
    assertEquals(0, initTiny(model).code);
    Path in = dir.resolve("in.jsonl");
    Files.writeString(in, "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\"}\n");
    assertOneLineError(
        run("score", "--model", model.toString(), "--input", in.toString()),
        3,
        in + ":2",
        "'completion'");
    Files.writeString(in, "{\"prompt\": \"a\", \"completion\": \"b\"}\nnot json\n");
    assertOneLineError(
        run("score", "--model", model.toString(), "--input", in.toString()),
        3,
        in + ":2",
        "not valid JSON");
    Files.writeString(in, "{\"prompt\": 3, \"completion\": \"b\"}\n");
    assertOneLineError(
        run("score", "--model", model.toString(), "--input", in.toString()),
        3,
        in + ":1",
        "'prompt' must be a string");
  }

  @Test
  void outputIsFlushedBeforeTheExitCodeReturns() {
    // main() exits right after run(): anything left in a buffer would be lost (config show printed
    // nothing once).
    StringWriter out = new StringWriter();
    int code =
        FlanTune.run(
            new String[] {"config", "show", "--config", "configs/smoke.yaml"},
            new PrintWriter(out, false),
            new PrintWriter(new StringWriter(), false));
    assertEquals(0, code);
    assertTrue(out.toString().contains("objective: causal_lm"), out.toString());
  }

  @Test
  void outOfMemoryIsOneLineWithTheKnobsToTurn() {
    var oom = new OutOfMemoryError("Cannot allocate new LongPointer(2)");
    oom.initCause(
        new OutOfMemoryError(
            "Physical memory usage is too high: physicalBytes (1825M) > maxPhysicalBytes (1800M)"));
    String m = FlanTune.messageOf(oom);
    assertTrue(
        m.contains("maxPhysicalBytes (1800M)")
            && m.contains("FLAN_TUNE_OFFHEAP")
            && !m.contains("\n"),
        m);
    assertEquals(1, FlanTune.exitCodeOf(oom));
  }

  @Test
  void usageErrorsAreExitTwo() {
    Run r = run("score", "--model");
    assertEquals(2, r.code);
    assertEquals(2, run("no-such-command").code);
    assertEquals(2, run().code);
    assertEquals(0, run("--help").code);
  }

  @Test
  void configErrorsAreReportedTogetherWithSuggestions() throws IOException {
    Path cfg = dir.resolve("c.yaml");
    Files.writeString(
        cfg,
        String.join(
            "\n",
            "init: {tokenizer: "
                + TINY_TOKENIZER.toAbsolutePath()
                + ", layers: 1, heads: 2, embd: 16, positions: 32}",
            "data: {objective: causal_lm, text: {train: [missing.txt]}, max_lenght: 64}",
            "train: {lr: fast, steps: 2.5, shedule: cosine}",
            ""));
    Run r = run("config", "validate", "--config", cfg.toString());
    assertOneLineError(
        r,
        2,
        "data.max_lenght: unknown key (did you mean data.max_length?)",
        "train.lr: expected a number, got 'fast'",
        "train.steps: expected an integer",
        "train.shedule: unknown key (did you mean train.schedule?)");

    Files.writeString(cfg, "train:\n  lr: 1\n   steps: 3\n");
    assertOneLineError(
        run("config", "validate", "--config", cfg.toString()), 2, cfg + ":3", "invalid YAML");
    assertOneLineError(
        run("config", "validate", "--config", dir.resolve("nope.yaml").toString()),
        2,
        "config file not found");

    Files.writeString(
        cfg,
        "init: {tokenizer: tok.json, layers: 1, heads: 2, embd: 16, positions: 32}\ndata: {objective: causal_lm, text: {train: [a.txt]}}\n");
    Files.writeString(dir.resolve("a.txt"), "hello");
    Files.copy(TINY_TOKENIZER, dir.resolve("tok.json"));
    Run ok = run("config", "validate", "--config", cfg.toString(), "train.lr=1e-3");
    assertEquals(
        0, ok.code,
        ok.err); // paths resolve against the config's directory, not the working directory
    Run shown = run("config", "show", "--config", cfg.toString(), "train.steps=7");
    assertTrue(shown.out.contains("steps: 7") && shown.out.contains("grad_accum: 1"), shown.out);
    // The resolved config (absolute paths, every default) loads back to the same config from
    // elsewhere.
    Path elsewhere = Files.createDirectories(dir.resolve("elsewhere")).resolve("resolved.yaml");
    Files.writeString(elsewhere, shown.out);
    assertEquals(
        dev.flantune.config.ConfigLoader.load(cfg, List.of("train.steps=7")),
        dev.flantune.config.ConfigLoader.load(elsewhere, List.of()));
  }

  @Test
  void everyShippedConfigValidates() throws IOException {
    // Configs for weights users bring themselves (models/…) are validated with a stand-in
    // checkpoint.
    Path standIn = dir.resolve("stand-in");
    assertEquals(0, initTiny(standIn).code);
    try (var files = Files.list(Path.of("configs"))) {
      List<Path> configs = files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
      assertTrue(configs.size() >= 4, configs.toString());
      for (Path c : configs) {
        boolean bringYourOwn = Files.readString(c).contains("model: ../models/");
        Run r =
            bringYourOwn
                ? run(
                    "config",
                    "validate",
                    "--config",
                    c.toString(),
                    "model=" + standIn.toAbsolutePath())
                : run("config", "validate", "--config", c.toString());
        assertEquals(0, r.code, c + ": " + r.err);
      }
    }
  }
}
