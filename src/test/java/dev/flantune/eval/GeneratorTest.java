package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.model.TinyModels;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class GeneratorTest {
  static final dev.flantune.model.ModelConfig CONFIG =
      dev.flantune.model.family.Gpt2Family.of(50, 24, 32, 2, 4, 49);
  static final CausalLm LM = TinyModels.random(CONFIG, 7);
  static final int[] PROMPT = {3, 14, 15, 9};

  /** Greedy decoding without a cache: the whole sequence through the SameDiff graph each step. */
  static int[] greedyByFullForward(CausalLm lm, int[] prompt, int steps) {
    int[] seq = prompt.clone();
    for (int i = 0; i < steps; i++) {
      INDArray logits = lm.logits(TinyModels.row(seq));
      int next = Generator.argmax(logits.getRow(seq.length - 1).toFloatVector());
      seq = Arrays.copyOf(seq, seq.length + 1);
      seq[seq.length - 1] = next;
    }
    return Arrays.copyOfRange(seq, prompt.length, seq.length);
  }

  @Test
  void greedyWithTheCacheEqualsGreedyWithout() {
    int[] want = greedyByFullForward(LM, PROMPT, 15);
    Generator.Result got = new Generator(LM).generate(PROMPT, Generator.Settings.greedy(15, -1));
    assertArrayEquals(want, got.tokens());
    assertEquals(Generator.Stop.MAX_TOKENS, got.stop());
    assertTrue(
        Arrays.stream(want).distinct().count() > 2,
        "degenerate sequence proves little: " + Arrays.toString(want));
  }

  @Test
  void stopsAtEosWithoutEmittingIt() {
    int[] free = new Generator(LM).generate(PROMPT, Generator.Settings.greedy(15, -1)).tokens();
    int k = 1; // first position whose token did not occur before it
    while (contains(free, k, free[k])) k++;
    Generator.Result r = new Generator(LM).generate(PROMPT, Generator.Settings.greedy(15, free[k]));
    assertEquals(Generator.Stop.EOS, r.stop());
    assertArrayEquals(Arrays.copyOf(free, k), r.tokens());
  }

  @Test
  void stopsAtAnyOfSeveralEosIdsIncludingTheSecond() {
    int[] free = new Generator(LM).generate(PROMPT, Generator.Settings.greedy(15, -1)).tokens();
    int k = 1; // first position whose token did not occur before it
    while (contains(free, k, free[k])) k++;
    // An EOS the model never produces first, then the one it does: the second stops it.
    int never = 0;
    while (contains(free, free.length, never)) never++;
    Generator.Result r =
        new Generator(LM)
            .generate(
                PROMPT,
                Generator.Settings.greedy(
                    15, new java.util.LinkedHashSet<>(List.of(never, free[k]))));
    assertEquals(Generator.Stop.EOS, r.stop());
    assertArrayEquals(Arrays.copyOf(free, k), r.tokens());
  }

  @Test
  void stopsWhenTheContextIsFull() {
    int[] prompt =
        TinyModels.randomIds(20, 50, 5); // n_positions 24: 4 more fit, and one more is predicted
    Generator.Result r = new Generator(LM).generate(prompt, Generator.Settings.greedy(100, -1));
    assertEquals(Generator.Stop.CONTEXT_FULL, r.stop());
    assertEquals(5, r.tokens().length);
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new Generator(LM)
                .generate(TinyModels.randomIds(24, 50, 5), Generator.Settings.greedy(1, -1)));
  }

  @Test
  void samplingIsReproducibleForASeedAndVariesAcrossSeeds() {
    Generator g = new Generator(LM);
    int[] a = g.generate(PROMPT, new Generator.Settings(20, 1.0, 1.0, 42, -1)).tokens();
    int[] b = g.generate(PROMPT, new Generator.Settings(20, 1.0, 1.0, 42, -1)).tokens();
    int[] c = g.generate(PROMPT, new Generator.Settings(20, 1.0, 1.0, 43, -1)).tokens();
    assertArrayEquals(a, b);
    assertFalse(Arrays.equals(a, c), "seeds 42 and 43 gave the same 20 tokens");
    int[] greedy = g.generate(PROMPT, Generator.Settings.greedy(20, -1)).tokens();
    assertArrayEquals(
        greedy,
        g.generate(PROMPT, new Generator.Settings(20, 1.0, 1e-9, 42, -1)).tokens(),
        "top-p→0");
    assertArrayEquals(
        greedy, g.generate(PROMPT, new Generator.Settings(20, 1e-4, 1.0, 42, -1)).tokens(), "T→0");
  }

  @Test
  void sampleFrequenciesFollowTemperatureAndTopP() {
    float[] logits = {
      (float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.15), (float) Math.log(0.05)
    };
    assertFrequencies(logits, 1.0, 1.0, new double[] {0.5, 0.3, 0.15, 0.05});
    // nucleus 0.7: 0.5 < 0.7 ≤ 0.8, so ids 0 and 1 remain, renormalized to 5/8 and 3/8
    assertFrequencies(logits, 1.0, 0.7, new double[] {0.625, 0.375, 0, 0});
    // temperature 2: p ∝ sqrt(p)
    double[] s = {Math.sqrt(0.5), Math.sqrt(0.3), Math.sqrt(0.15), Math.sqrt(0.05)};
    double z = Arrays.stream(s).sum();
    assertFrequencies(logits, 2.0, 1.0, Arrays.stream(s).map(x -> x / z).toArray());
  }

  static void assertFrequencies(float[] logits, double temperature, double topP, double[] want) {
    SplittableRandom rng = new SplittableRandom(1);
    int n = 40_000;
    int[] counts = new int[logits.length];
    for (int i = 0; i < n; i++) counts[Generator.pick(logits, temperature, topP, rng)]++;
    for (int i = 0; i < want.length; i++) {
      double f = (double) counts[i] / n;
      if (want[i] == 0) assertEquals(0, counts[i], "id " + i + " is outside the nucleus");
      else
        assertEquals(
            want[i], f, 0.012, "frequency of id " + i + " (T=" + temperature + ", p=" + topP + ")");
    }
  }

  @Test
  void settingsRejectNonsense() {
    assertThrows(IllegalArgumentException.class, () -> new Generator.Settings(-1, 0, 1, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new Generator.Settings(1, -0.5, 1, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new Generator.Settings(1, 1, 0, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new Generator.Settings(1, 1, 1.5, 0, -1));
  }

  private static boolean contains(int[] a, int end, int x) {
    for (int i = 0; i < end; i++) if (a[i] == x) return true;
    return false;
  }

  /** The nucleus from a threshold set draws exactly what sorting the whole vocabulary draws. */
  @Test
  void pickEqualsTheFullSortOnRandomLogitsWithTies() {
    java.util.SplittableRandom gen = new java.util.SplittableRandom(5);
    double[] temps = {0.3, 0.7, 1.0, 2.0};
    double[] tops = {0.05, 0.5, 0.9, 0.999, 1.0};
    for (int trial = 0; trial < 400; trial++) {
      int v = 1 + gen.nextInt(3000);
      float[] logits = new float[v];
      for (int i = 0; i < v; i++)
        logits[i] = gen.nextInt(4) == 0 ? 1.5f : (float) (gen.nextGaussian() * 3); // ties too
      double t = temps[trial % temps.length], p = tops[trial % tops.length];
      long seed = gen.nextLong();
      assertEquals(
          Generator.pickBySortingAll(logits, t, p, new java.util.SplittableRandom(seed)),
          Generator.pick(logits, t, p, new java.util.SplittableRandom(seed)),
          "trial " + trial + " V=" + v + " T=" + t + " p=" + p);
    }
  }
}
