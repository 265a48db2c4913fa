package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.data.Batcher;
import dev.flantune.data.ExampleTokenizer;
import dev.flantune.data.TokenizedExample;
import dev.flantune.data.Truncation;
import dev.flantune.model.CausalLm;
import dev.flantune.report.EvalReport;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank classification agrees with an independent reference: option scores from the plain-PyTorch
 * GPT-2 and Python BPE ({@code scripts/reference/make_rank_fixture.py} over score_ref.py, which
 * also renders the prompts itself) on the BF16, sharded, untied {@code score} fixture checkpoint.
 */
class RankClassificationReferenceTest {
  static final Path MODEL = Path.of("src/test/resources/score/model");
  static final Path TASKS = Path.of("src/test/resources/eval/tasks");
  static final Path EXPECTED = Path.of("src/test/resources/eval/rank-expected.jsonl");
  static CausalLm lm;

  @TempDir Path dir;

  @BeforeAll
  static void load() {
    lm = CausalLm.load(MODEL);
  }

  @Test
  void optionScoresAndPredictionsMatchTheReference() throws IOException {
    HeldOutEval.Settings s =
        HeldOutEval.Settings.of(
            List.of("rank"), 0, dev.flantune.tasks.Task.Split.VALIDATION, 100, 3, 0);
    EvalReport report;
    try (Tokenizer tok = Tokenizer.load(MODEL)) {
      report =
          HeldOutEval.run(
              s,
              new EvaluatedModel(lm, MODEL, "test"),
              null,
              tok,
              TaskRegistry.load(TASKS),
              dir,
              new PrintWriter(new StringWriter()));
    }
    ObjectMapper json = new ObjectMapper();
    Map<String, JsonNode> got = new HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("predictions.jsonl"))) {
      JsonNode o = json.readTree(line);
      got.put(
          o.get("task").asText() + "/" + o.get("template").asInt() + "/" + o.get("index").asInt(),
          o);
    }
    List<String> want = Files.readAllLines(EXPECTED);
    assertEquals(want.size(), got.size(), "one prediction per non-turned template × example");
    double smallestGap = Double.POSITIVE_INFINITY;
    for (String line : want) {
      JsonNode w = json.readTree(line);
      String key =
          w.get("task").asText() + "/" + w.get("template").asInt() + "/" + w.get("index").asInt();
      JsonNode g = got.get(key);
      assertNotNull(g, key);
      assertEquals(
          w.get("prompt").asText(), g.get("prompt").asText(), key + ": the same prompt text");
      assertEquals(w.get("options"), g.get("options"), key);
      assertEquals(
          w.get("options_tokens"), g.get("options_tokens"), key + ": target + EOS token counts");
      for (int o = 0; o < w.get("options").size(); o++) {
        assertEquals(
            w.get("options_logprob").get(o).asDouble(),
            g.get("options_logprob").get(o).asDouble(),
            1e-3,
            key + " option " + o);
      }
      assertEquals(
          w.get("prediction").asText(), g.get("prediction").asText(), key + ": the same argmax");
      assertEquals(w.get("answer").asText(), g.get("answer").asText(), key);
      smallestGap = Math.min(smallestGap, gap(w.get("options_logprob")));
    }
    assertTrue(
        smallestGap > 1e-2, "no near-tie in the fixture, so the argmax comparison means something");
    // The turned template 2 of tiny_yesno is not rank-classifiable: skipped, and said so.
    EvalReport.TaskResult yesno =
        report.clusters().get(0).tasks().stream()
            .filter(t -> t.task().equals("tiny_yesno"))
            .findFirst()
            .orElseThrow();
    assertEquals(
        List.of(2), yesno.skipped().stream().map(EvalReport.SkippedTemplate::template).toList());
  }

  /**
   * With a prompt too long for the context, an option's score is exactly minus the training loss of
   * the same (prompt, target) example: same ids, same truncation (the prompt's start), same EOS.
   */
  @Test
  void scoresEqualMinusTheTrainingLossOfTheSameTruncatedExample() {
    String prompt =
        "Qz9 Xk7 Vw3 Jp5 ".repeat(6) + "is this long prompt cut?\n"; // rare pieces: many tokens
    List<String> targets = List.of("yes", "no way");
    try (Tokenizer tok = Tokenizer.load(MODEL)) {
      int max = lm.config().nPositions();
      Optional<RankClassifier.Ranking> r =
          new RankClassifier(lm, tok, max, 2)
              .rank(List.of(new RankClassifier.Query(prompt, targets)))
              .get(0);
      assertTrue(r.isPresent());
      ExampleTokenizer exTok = new ExampleTokenizer(tok, max);
      for (int o = 0; o < targets.size(); o++) {
        TokenizedExample x = exTok.tokenize(prompt, targets.get(o), new Truncation()).orElseThrow();
        assertTrue(x.truncated(), "the prompt is truncated");
        var batch = Batcher.pad(List.of(x), 0, tok.eosId());
        double[] nll = lm.tokenScores(batch).nll();
        double loss = 0;
        for (int i = 0; i < nll.length; i++) loss += batch.lossMask()[i] * nll[i];
        assertEquals(-loss, r.get().logprob()[o], 1e-4, "option " + o);
        assertEquals(x.targetTokens(), r.get().tokens()[o]);
      }
    }
  }

  private static double gap(JsonNode lp) {
    double best = Double.NEGATIVE_INFINITY, second = Double.NEGATIVE_INFINITY;
    for (JsonNode v : lp) {
      double x = v.asDouble();
      if (x > best) {
        second = best;
        best = x;
      } else if (x > second) second = x;
    }
    return best - second;
  }
}
