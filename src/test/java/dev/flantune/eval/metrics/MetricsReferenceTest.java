package dev.flantune.eval.metrics;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every metric against values computed in Python by scripts/reference/metrics_ref.py (SQuAD v1.1
 * script, sacrebleu 2.x BLEU re-derived and cross-checked with NLTK, rouge-score). Tolerance 1e-9
 * absolute, on sacrebleu's 0–100 scale for BLEU: both sides do the same double arithmetic, so any
 * real divergence (a token, a count, a branch) is far larger.
 */
class MetricsReferenceTest {
  static final Path FIXTURE = Path.of("src/test/resources/metrics/reference.json");
  static final double TOL = 1e-9;
  static JsonNode root;

  static JsonNode root() throws IOException {
    if (root == null) root = new ObjectMapper().readTree(FIXTURE.toFile());
    return root;
  }

  static Stream<Arguments> cases() throws IOException {
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : root().get("cases")) out.add(Arguments.of(c.get("name").asText(), c));
    return out.stream();
  }

  static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void fixtureIsSubstantial() throws IOException {
    assertTrue(root().get("cases").size() >= 20);
    assertTrue(root().get("nltk_sentence_cross_checks").asInt() >= 3);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void squadMatchesTheV11Script(String name, JsonNode c) {
    String hyp = c.get("hypothesis").asText();
    List<String> refs = strings(c.get("references"));
    assertEquals(c.get("squad_normalized").asText(), Squad.normalize(hyp), "normalized");
    assertEquals(c.get("exact_match").asDouble(), Squad.exactMatch(hyp, refs), TOL, "exact match");
    assertEquals(c.get("f1").asDouble(), Squad.f1(hyp, refs), TOL, "f1");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void sentenceBleuMatchesSacrebleu(String name, JsonNode c) {
    String hyp = c.get("hypothesis").asText();
    List<String> refs = strings(c.get("references"));
    assertEquals(c.get("tokens_13a").asText(), Bleu.preprocess(hyp), "13a tokens");
    assertBleu(c.get("sentence_bleu"), Bleu.sentence(hyp, refs));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void rougeMatchesRougeScore(String name, JsonNode c) {
    String hyp = c.get("hypothesis").asText();
    assertEquals(strings(c.get("rouge_tokens")), Rouge.tokenize(hyp), "tokens");
    Rouge.Scores s = Rouge.score(hyp, strings(c.get("references")));
    assertRouge(c.get("rouge").get("rouge1"), s.rouge1(), "rouge1");
    assertRouge(c.get("rouge").get("rouge2"), s.rouge2(), "rouge2");
    assertRouge(c.get("rouge").get("rougeL"), s.rougeL(), "rougeL");
  }

  @Test
  void corpusBleuMatchesSacrebleuOnEverySubCorpus() throws IOException {
    int n = 0;
    for (JsonNode c : root().get("corpus")) {
      List<List<String>> refs = new ArrayList<>();
      c.get("references").forEach(r -> refs.add(strings(r)));
      Bleu.Score got = Bleu.corpus(strings(c.get("hypotheses")), refs);
      assertBleu(c.get("bleu"), got);
      if (c.has("nltk_unsmoothed_bleu"))
        assertEquals(c.get("nltk_unsmoothed_bleu").asDouble(), got.score(), TOL, "NLTK");
      n++;
    }
    assertEquals(5, n);
  }

  static void assertBleu(JsonNode want, Bleu.Score got) {
    String ctx = " (got " + got + ")";
    assertEquals(want.get("sys_len").asLong(), got.stats().hypLen(), "hyp_len" + ctx);
    assertEquals(want.get("ref_len").asLong(), got.stats().refLen(), "ref_len" + ctx);
    for (int n = 0; n < Bleu.MAX_ORDER; n++) {
      assertEquals(
          want.get("correct").get(n).asLong(),
          got.stats().correct()[n],
          "correct[" + n + "]" + ctx);
      assertEquals(
          want.get("total").get(n).asLong(), got.stats().total()[n], "total[" + n + "]" + ctx);
      assertEquals(
          want.get("precisions").get(n).asDouble(),
          got.precisions()[n],
          TOL,
          "precision[" + n + "]" + ctx);
    }
    assertEquals(want.get("bp").asDouble(), got.brevityPenalty(), TOL, "bp" + ctx);
    assertEquals(want.get("score").asDouble(), got.score(), TOL, "score" + ctx);
  }

  static void assertRouge(JsonNode want, Rouge.Score got, String what) {
    assertEquals(want.get("precision").asDouble(), got.precision(), TOL, what + " precision");
    assertEquals(want.get("recall").asDouble(), got.recall(), TOL, what + " recall");
    assertEquals(want.get("fmeasure").asDouble(), got.fmeasure(), TOL, what + " F");
  }
}
