package dev.flantune.eval.metrics;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Hand-checked properties of each metric, independent of the Python fixture. */
class MetricsTest {
  @Test
  void squadNormalizationFollowsTheScript() {
    assertEquals("quick brownfox", Squad.normalize("The  Quick, brown-fox!"));
    assertEquals("apple", Squad.normalize("An apple."));
    assertEquals("answer", Squad.normalize("the answer")); // article removed, spaces collapsed
    assertEquals("theatre", Squad.normalize("theatre")); // only whole words are articles
    assertEquals("", Squad.normalize("a an the"));
  }

  @Test
  void f1CountsOverlapWithMultiplicityAndTakesTheBestReference() {
    // prediction "cat cat dog" vs "cat dog dog": overlap 2 (clipped), P = R = 2/3
    assertEquals(2.0 / 3, Squad.f1("cat cat dog", List.of("cat dog dog")), 1e-12);
    assertEquals(1.0, Squad.f1("Paris", List.of("London", "paris!")), 1e-12);
    assertEquals(0.0, Squad.f1("", List.of("")), 0.0); // v1.1: no tokens, no overlap
    assertEquals(1.0, Squad.exactMatch("", List.of("")), 0.0);
  }

  @Test
  void bleuOfAnIdenticalSentenceIs100AndOfADisjointOneIs0() {
    assertEquals(
        100.0,
        Bleu.sentence("The cat sat on the mat.", List.of("The cat sat on the mat.")).score(),
        1e-12);
    assertEquals(0.0, Bleu.sentence("foo bar", List.of("baz qux")).score(), 0.0);
    assertEquals(0.0, Bleu.corpus(List.of(""), List.of(List.of("x"))).score(), 0.0);
  }

  @Test
  void bleuBrevityPenaltyAndExpSmoothingByHand() {
    // hyp "a b x c d y" (6 tokens) vs "a b c d" (4): 1-grams 4/6, 2-grams 2/5 (a b, c d),
    // 3-grams 0/4 → 100/(2·4), 4-grams 0/3 → 100/(4·3); BP 1 (hyp longer).
    Bleu.Score s = Bleu.corpus(List.of("a b x c d y"), List.of(List.of("a b c d")));
    double want =
        Math.exp(
            (Math.log(400.0 / 6) + Math.log(40.0) + Math.log(12.5) + Math.log(100.0 / 12)) / 4);
    assertEquals(want, s.score(), 1e-9);
    // a short hypothesis gets exp(1 - r/c)
    Bleu.Score shortHyp = Bleu.corpus(List.of("a b c d"), List.of(List.of("a b c d e f g h")));
    assertEquals(Math.exp(1 - 8.0 / 4), shortHyp.brevityPenalty(), 1e-15);
  }

  @Test
  void bleuRejectsASegmentWithoutReferences() {
    assertThrows(IllegalArgumentException.class, () -> Bleu.sentence("x", List.of("")));
    assertThrows(
        IllegalArgumentException.class,
        () -> Bleu.corpus(List.of("x", "y"), List.of(List.of("x"))));
  }

  @Test
  void tokenizer13aSplitsPunctuationButNotNumbers() {
    assertEquals(
        "Hello , world ! 3.14 1,000 2019 - 20 it's",
        Tokenizer13a.tokenize("Hello, world! 3.14 1,000 2019-20 it's"));
  }

  @Test
  void rougeLUsesTheLongestCommonSubsequence() {
    // LCS("a b c d e", "a x c e") = "a c e" → P = 3/4, R = 3/5
    Rouge.Score l = Rouge.score("a x c e", List.of("a b c d e")).rougeL();
    assertEquals(0.75, l.precision(), 1e-12);
    assertEquals(0.6, l.recall(), 1e-12);
    assertEquals(2 * 0.75 * 0.6 / 1.35, l.fmeasure(), 1e-12);
    assertEquals(List.of("caf", "na", "ve", "42"), Rouge.tokenize("Café naïve, 42!"));
    assertEquals(0.0, Rouge.score("", List.of("x")).rougeL().fmeasure(), 0.0);
  }
}
