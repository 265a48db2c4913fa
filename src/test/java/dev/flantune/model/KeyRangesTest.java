package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.flantune.data.Batch;
import org.junit.jupiter.api.Test;

/** The key ranges the direct engine attends over, against the additive bias the graph uses. */
class KeyRangesTest {
  @Test
  void packedRowsWithPaddingGiveTheSameRangesAsTheirBias() {
    int t = 7;
    // Row 0: two packed examples then padding; row 1: one example filling the row.
    int[] seg = {1, 1, 1, 2, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1};
    Batch b = new Batch(2, t, new int[14], new int[14], seg, new int[14], new float[14]);
    KeyRanges direct = KeyRanges.of(b);
    assertArrayEquals(new int[] {0, 0, 0, 3, 3, 6, 7, 0, 0, 0, 0, 0, 0, 0}, direct.lo());
    assertArrayEquals(new int[14], direct.shared());
    KeyRanges fromBias = KeyRanges.ofBias(AttentionBias.compute(b), 2, t);
    assertArrayEquals(direct.lo(), fromBias.lo());
    assertArrayEquals(direct.shared(), fromBias.shared());
  }

  @Test
  void continuationsSharingAContextSeeItAndThemselves() {
    int t = 6; // context c0 c1 | continuation a (positions 2, 3) | continuation b (4, 5)
    float[] bias = new float[t * t];
    java.util.Arrays.fill(bias, ModelGraph.MASKED);
    int[][] sees = {{0}, {0, 1}, {0, 1, 2}, {0, 1, 2, 3}, {0, 1, 4}, {0, 1, 4, 5}};
    for (int q = 0; q < t; q++) for (int k : sees[q]) bias[q * t + k] = 0f;
    KeyRanges r = KeyRanges.ofBias(bias, 1, t);
    assertArrayEquals(new int[] {0, 0, 0, 0, 4, 4}, r.lo());
    assertArrayEquals(new int[] {0, 0, 0, 0, 2, 2}, r.shared());
  }

  @Test
  void patternsOfAnotherShapeAreRefused() {
    int t = 4;
    float[] bias = new float[t * t];
    java.util.Arrays.fill(bias, ModelGraph.MASKED);
    for (int q = 0; q < t; q++) for (int k = 0; k <= q; k++) bias[q * t + k] = 0f;
    bias[3 * t + 1] = ModelGraph.MASKED; // query 3 sees 0, 2, 3 but not 1: fine (shared 1, lo 2)
    KeyRanges ok = KeyRanges.ofBias(bias, 1, t);
    assertArrayEquals(new int[] {0, 0, 0, 2}, ok.lo());
    assertArrayEquals(new int[] {0, 0, 0, 1}, ok.shared());
    bias[3 * t + 1] = 0f;
    bias[3 * t + 0] = ModelGraph.MASKED;
    bias[3 * t + 2] = ModelGraph.MASKED; // sees 1 and 3 only: two holes
    assertNull(KeyRanges.ofBias(bias, 1, t));
    bias[3 * t + 2] = 0f;
    bias[2 * t + 3] = 0f; // a query seeing a later key
    assertNull(KeyRanges.ofBias(bias, 1, t));
  }
}
