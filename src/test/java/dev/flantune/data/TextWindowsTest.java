package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.*;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Causal-LM windows: labels are the next token, every window once per epoch, seek reproduces. */
class TextWindowsTest {
  static int[] stream(int n) {
    int[] t = new int[n];
    for (int i = 0; i < n; i++) t[i] = i; // token value = its position: easy to check
    return t;
  }

  @Test
  void labelsAreTheNextTokenAndEveryPositionIsInTheLoss() {
    TextWindows w = new TextWindows(stream(101), 10, 2, 7, "x");
    assertEquals(10, w.windowCount());
    Batch b = w.next();
    for (int i = 0; i < b.inputIds().length; i++) {
      assertEquals(b.inputIds()[i] + 1, b.labels()[i]);
      assertEquals(1f, b.lossMask()[i]);
      assertEquals(i % 10, b.positionIds()[i]);
      assertEquals(b.inputIds()[i] % 10, b.positionIds()[i], "windows start at multiples of T");
    }
  }

  @Test
  void eachEpochVisitsEveryWindowOnceInASeededOrder() {
    TextWindows w = new TextWindows(stream(101), 10, 2, 7, "x");
    for (int epoch = 0; epoch < 2; epoch++) {
      Set<Integer> starts = new HashSet<>();
      for (int k = 0; k < 5; k++) {
        Batch b = w.next();
        starts.add(b.inputIds()[0]);
        starts.add(b.inputIds()[10]);
      }
      assertEquals(10, starts.size(), "epoch " + epoch);
    }
    TextWindows other = new TextWindows(stream(101), 10, 2, 8, "x");
    TextWindows same = new TextWindows(stream(101), 10, 2, 7, "x");
    assertArrayEquals(
        same.next().inputIds(), new TextWindows(stream(101), 10, 2, 7, "x").next().inputIds());
    boolean differs = false;
    for (int k = 0; k < 5; k++)
      differs |= !java.util.Arrays.equals(same.next().inputIds(), other.next().inputIds());
    assertTrue(differs, "another seed, another order");
  }

  @Test
  void seekReproducesTheStream() {
    TextWindows a = new TextWindows(stream(101), 10, 3, 1, "x");
    for (int k = 0; k < 7; k++) a.next();
    TextWindows b = new TextWindows(stream(101), 10, 3, 1, "x");
    b.seek(7);
    for (int k = 0; k < 5; k++) assertArrayEquals(a.next().inputIds(), b.next().inputIds());
    assertEquals(12, b.position());
  }
}
