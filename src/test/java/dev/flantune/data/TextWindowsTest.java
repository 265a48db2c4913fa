package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

  @Test
  void documentsStartWithBosWhereTheModelUsesOneAndEndWithEos(@TempDir Path dir)
      throws java.io.IOException {
    Path text = dir.resolve("t.txt");
    Files.writeString(text, "First document.\n\n\nSecond one\nwith two lines.\n");
    try (Tokenizer sp = Tokenizer.load(Path.of("src/test/resources/tokenizer/sp-bytefallback"))) {
      int[] a = sp.encode("First document."), b = sp.encode("Second one\nwith two lines.");
      int[] want = new int[a.length + b.length + 4];
      want[0] = 1;
      System.arraycopy(a, 0, want, 1, a.length);
      want[a.length + 1] = 2;
      want[a.length + 2] = 1;
      System.arraycopy(b, 0, want, a.length + 3, b.length);
      want[want.length - 1] = 2;
      assertArrayEquals(want, TextWindows.tokenize(List.of(text), sp).tokens());
    }
    try (Tokenizer gpt2 = Tokenizer.load(Path.of("data/tokenizers/gpt2/tokenizer.json"))) {
      int[] got = TextWindows.tokenize(List.of(text), gpt2).tokens();
      int[] a = gpt2.encode("First document.");
      assertArrayEquals(a, java.util.Arrays.copyOf(got, a.length), "GPT-2: no BOS");
      assertEquals(50256, got[a.length]);
      assertEquals(50256, got[got.length - 1]);
    }
  }
}
