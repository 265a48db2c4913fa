package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.model.TinyModels;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Decoding speed, cached against full recompute (run with -DexcludedTestGroups=none). Prints
 * tokens/s; asserts only that the cache is faster, since the machines are shared and noisy.
 */
@Tag("slow")
class GeneratorSpeedTest {
  @Test
  void smallModel() {
    measure(dev.flantune.model.family.Gpt2Family.of(8000, 256, 256, 4, 4, 0), 32, 64, true);
  }

  @Test
  void gpt2SmallShape() {
    measure(
        dev.flantune.model.family.Gpt2Family.of(50257, 1024, 768, 12, 12, 50256), 32, 32, false);
  }

  static void measure(
      dev.flantune.model.ModelConfig c, int promptLen, int newTokens, boolean compareFull) {
    CausalLm lm = TinyModels.random(c, 1);
    int[] prompt = TinyModels.randomIds(promptLen, c.vocabSize(), 2);
    Generator g = new Generator(lm);
    Generator.Settings s = Generator.Settings.greedy(newTokens, -1);
    g.generate(prompt, s); // warm-up
    long t0 = System.nanoTime();
    int[] cached = g.generate(prompt, s).tokens();
    double cachedSec = (System.nanoTime() - t0) / 1e9;
    String line =
        String.format(
            "V%d C%d L%d H%d, prompt %d, %d new: cached %.1f tok/s",
            c.vocabSize(),
            c.nEmbd(),
            c.nLayer(),
            c.nHead(),
            promptLen,
            newTokens,
            newTokens / cachedSec);
    if (compareFull) {
      GeneratorTest.greedyByFullForward(lm, prompt, 4); // warm-up
      long t1 = System.nanoTime();
      int[] full = GeneratorTest.greedyByFullForward(lm, prompt, newTokens);
      double fullSec = (System.nanoTime() - t1) / 1e9;
      assertArrayEquals(full, cached);
      line +=
          String.format(
              ", full recompute %.1f tok/s (%.1fx)", newTokens / fullSec, fullSec / cachedSec);
      assertTrue(fullSec > cachedSec, line);
    }
    System.out.println(line);
  }
}
