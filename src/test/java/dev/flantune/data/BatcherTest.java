package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Exact batch layouts on hand-made examples, position by position. */
class BatcherTest {
  private static final int PAD = 0;

  private static TokenizedExample ex(int[] ids, int promptTokens) {
    byte[] mask = new byte[ids.length];
    for (int i = promptTokens; i < ids.length; i++) mask[i] = 1;
    return new TokenizedExample(ids, mask, promptTokens, 0);
  }

  // A: prompt [1,2], target [3], eos 9.  B: prompt [5], target [6], eos 9.
  private final TokenizedExample a = ex(new int[] {1, 2, 3, 9}, 2);
  private final TokenizedExample b = ex(new int[] {5, 6, 9}, 1);

  @Test
  void assemblyPutsTheMaskOnTargetAndEosAndTruncatesThePromptStart() {
    TokenizedExample t =
        ExampleTokenizer.assemble(new int[] {1, 2, 3, 4, 5}, new int[] {7, 8}, 9, 5).orElseThrow();
    assertArrayEquals(new int[] {4, 5, 7, 8, 9}, t.ids());
    assertArrayEquals(new byte[] {0, 0, 1, 1, 1}, t.lossMask());
    assertEquals(2, t.promptTokens());
    assertEquals(3, t.droppedPromptTokens());
    // One prompt token must survive to predict the first target token; otherwise skip.
    assertEquals(
        true, ExampleTokenizer.assemble(new int[] {1}, new int[] {7, 8, 8, 8}, 9, 5).isEmpty());
    // An empty prompt becomes [eos], so the first target token is still predicted.
    assertArrayEquals(
        new int[] {9, 7, 9},
        ExampleTokenizer.assemble(new int[0], new int[] {7}, 9, 8).orElseThrow().ids());
  }

  @Test
  void withBosEveryExampleStartsWithItOnceAndItIsNeverInTheLoss() {
    int bos = 1;
    TokenizedExample t =
        ExampleTokenizer.assemble(new int[] {20, 21, 22}, new int[] {7, 8}, bos, 9, 8)
            .orElseThrow();
    assertArrayEquals(new int[] {1, 20, 21, 22, 7, 8, 9}, t.ids());
    assertArrayEquals(new byte[] {0, 0, 0, 0, 1, 1, 1}, t.lossMask());
    assertEquals(4, t.promptTokens());
    // Truncation drops the prompt's start after the BOS, never the BOS.
    t =
        ExampleTokenizer.assemble(new int[] {20, 21, 22}, new int[] {7, 8}, bos, 9, 5)
            .orElseThrow();
    assertArrayEquals(new int[] {1, 22, 7, 8, 9}, t.ids());
    assertArrayEquals(new byte[] {0, 0, 1, 1, 1}, t.lossMask());
    assertEquals(2, t.droppedPromptTokens());
    // The BOS alone is enough to predict the first target token: the whole prompt may go.
    t = ExampleTokenizer.assemble(new int[] {20, 21}, new int[] {7, 8, 8}, bos, 9, 5).orElseThrow();
    assertArrayEquals(new int[] {1, 7, 8, 8, 9}, t.ids());
    assertArrayEquals(new byte[] {0, 1, 1, 1, 1}, t.lossMask());
    assertTrue(ExampleTokenizer.assemble(new int[0], new int[] {7, 8, 8, 8}, bos, 9, 5).isEmpty());
    // An empty prompt is the BOS alone (no EOS stand-in when the model has a BOS).
    assertArrayEquals(
        new int[] {1, 7, 9},
        ExampleTokenizer.assemble(new int[0], new int[] {7}, bos, 9, 8).orElseThrow().ids());

    // Packed: each example starts with its BOS at position 0; no label is ever the BOS.
    TokenizedExample x =
        ExampleTokenizer.assemble(new int[] {20}, new int[] {7}, bos, 9, 8).orElseThrow();
    TokenizedExample y =
        ExampleTokenizer.assemble(new int[] {30, 31}, new int[] {6}, bos, 9, 8).orElseThrow();
    Batch batch = Batcher.build(List.of(List.of(x, y)), 9, PAD);
    assertArrayEquals(new int[] {1, 20, 7, 9, 1, 30, 31, 6, 9}, batch.inputIds());
    assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 3, 4}, batch.positionIds());
    assertArrayEquals(new int[] {20, 7, 9, PAD, 30, 31, 6, 9, PAD}, batch.labels());
    assertArrayEquals(new float[] {0, 1, 1, 0, 0, 0, 1, 1, 0}, batch.lossMask());
  }

  @Test
  void packingLaysOutSegmentsPositionsLabelsAndPredictionAlignedMasks() {
    Batch batch = Batcher.build(List.of(List.of(a, b)), 8, PAD);
    assertArrayEquals(new int[] {1, 2, 3, 9, 5, 6, 9, PAD}, batch.inputIds());
    assertArrayEquals(new int[] {0, 1, 2, 3, 0, 1, 2, 0}, batch.positionIds());
    assertArrayEquals(new int[] {1, 1, 1, 1, 2, 2, 2, 0}, batch.segmentIds());
    // labels[i] = next token of the same example; the last token of each example predicts nothing.
    assertArrayEquals(new int[] {2, 3, 9, PAD, 6, 9, PAD, PAD}, batch.labels());
    // Batch mask is aligned to predictions: 1 iff labels[i] is a target or EOS token.
    assertArrayEquals(new float[] {0, 1, 1, 0, 1, 1, 0, 0}, batch.lossMask());
    assertEquals(4, batch.targetTokens()); // = a.targetTokens() + b.targetTokens()
    assertEquals(a.targetTokens() + b.targetTokens(), batch.targetTokens());
    assertEquals(7, batch.realTokens());
  }

  @Test
  void paddingIsOneExamplePerRowToTheLongest() {
    Batch batch = Batcher.pad(List.of(a, b), 0, PAD);
    assertEquals(2, batch.rows());
    assertEquals(4, batch.length());
    assertArrayEquals(new int[] {1, 2, 3, 9, 5, 6, 9, PAD}, batch.inputIds());
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1, 1, 0}, batch.segmentIds());
    assertArrayEquals(new float[] {0, 1, 1, 0, 1, 1, 0, 0}, batch.lossMask());
    assertThrows(IllegalArgumentException.class, () -> Batcher.pad(List.of(a), 3, PAD));
  }

  @Test
  void packerIsFirstFitOverTheBatchRowsAndNeverSplitsAnExample() {
    TokenizedExample c = ex(new int[] {4, 4, 4, 4, 4, 9}, 5); // 6 tokens
    List<TokenizedExample> in = List.of(a, c, b, a, c, c);
    List<Batch> out = new ArrayList<>();
    Iterator<Batch> it = Batcher.packed(in.iterator(), 2, 8, PAD);
    it.forEachRemaining(out::add);
    // Batch 1: row0 = a(4) + b(3); row1 = c(6). Next a (4) fits nowhere -> new batch.
    assertEquals(3, out.size());
    assertArrayEquals(
        new int[] {1, 1, 1, 1, 2, 2, 2, 0, 1, 1, 1, 1, 1, 1, 0, 0}, out.get(0).segmentIds());
    // Batch 2: row0 = a; row1 = c. Batch 3: the last c.
    assertArrayEquals(
        new int[] {1, 2, 3, 9, PAD, PAD, PAD, PAD, 4, 4, 4, 4, 4, 9, PAD, PAD},
        out.get(1).inputIds());
    assertEquals(1, out.get(2).rows());
    long targets = 0;
    for (Batch x : out) targets += x.targetTokens();
    long expected = 0;
    for (TokenizedExample x : in) expected += x.targetTokens();
    assertEquals(expected, targets, "packing keeps every target token's loss");
  }
}
