package dev.flantune.eval.contamination;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The n-gram rule, the rolling hashes and the hash set, each against a plain recomputation. */
class ContaminationCheckTest {
  @TempDir Path dir;

  private static List<Long> words(String s) {
    List<Long> out = new ArrayList<>();
    WordNgrams.words(s, out::add);
    return out;
  }

  @Test
  void wordsIgnoreCasePunctuationAndSpacing() {
    assertEquals(words("Paris is the capital"), words("  PARIS, is -- the\ncapital!"));
    assertEquals(4, WordNgrams.count("Lovely ending, unicode café ☕."));
    assertNotEquals(words("cafe"), words("café"));
  }

  @Test
  void rollingKeysEqualKeysOfEachWindowHashedAlone() {
    List<Long> w = words("a b c d e f g h i j k l m n o p q r s t");
    WordNgrams.Stream s = new WordNgrams.Stream(13);
    for (int i = 0; i < w.size(); i++) {
      s.push(w.get(i));
      for (int m = 1; m <= 13; m++) {
        if (i + 1 < m) {
          assertFalse(s.has(m));
          continue;
        }
        WordNgrams.Stream alone = new WordNgrams.Stream(m);
        for (int j = i - m + 1; j <= i; j++) alone.push(w.get(j));
        assertEquals(alone.key(m), s.key(m), "gram of " + m + " ending at " + i);
      }
    }
    // Grams of different lengths over the same words never share a key.
    assertNotEquals(s.key(12), s.key(13));
  }

  @Test
  void anExampleIsContaminatedByAnyNgramAndAShortOneOnlyWhole() throws Exception {
    Path text = dir.resolve("corpus.txt");
    Files.writeString(
        text,
        "It was a bright cold day in April, and the clocks were striking thirteen.\n"
            + "Short answer: yes indeed\n");
    ContaminationCheck c = new ContaminationCheck(13);
    // 14 words; the first 13 occur in the corpus (case and punctuation aside): contaminated.
    int long1 = c.add("it was a BRIGHT cold day in april and the clocks were striking NOW");
    // 13 words, but one differs from the corpus: clean.
    int long2 = c.add("it was a bright cold day in june and the clocks were striking");
    // Shorter than 13: contaminated only when the whole text occurs, in order.
    int short1 = c.add("Yes, indeed.");
    int short2 = c.add("indeed yes");
    int empty = c.add("☕ !");
    c.scanFiles("pretraining", List.of(text));
    assertTrue(c.matched(long1, "pretraining"));
    assertFalse(c.matched(long2, "pretraining"));
    assertTrue(c.matched(short1, "pretraining"));
    assertFalse(c.matched(short2, "pretraining"));
    assertFalse(c.matchedAny(empty));
    assertFalse(c.matched(long1, "training"), "a source never scanned matches nothing");
    assertTrue(c.peakBytes() > 0);
  }

  @Test
  void gramsDoNotCrossFromOneFileToTheNext() throws Exception {
    Path a = Files.writeString(dir.resolve("a.txt"), "one two\n");
    Path b = Files.writeString(dir.resolve("b.txt"), "three four\n");
    ContaminationCheck c = new ContaminationCheck(3);
    int across = c.add("two three four");
    int within = c.add("one two");
    c.scanFiles("pretraining", List.of(a, b));
    assertFalse(c.matched(across, "pretraining"));
    assertTrue(c.matched(within, "pretraining"));
  }

  @Test
  void hashSetHoldsExactlyWhatWasAddedThroughGrowth() {
    LongHashSet set = new LongHashSet(4);
    java.util.HashSet<Long> ref = new java.util.HashSet<>();
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 0; i < 50_000; i++) {
      long v = r.nextLong(1, 200_000);
      assertEquals(ref.add(v), set.add(v));
    }
    assertEquals(ref.size(), set.size());
    for (long v = 1; v < 200_000; v++) assertEquals(ref.contains(v), set.contains(v));
    assertTrue(set.bytes() <= 8L * 4 * ref.size(), "at most half full after growth, not sparser");
  }
}
