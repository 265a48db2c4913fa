package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.TinyModels;
import dev.flantune.model.family.Gpt2Family;
import dev.flantune.model.family.LlamaFamily;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Batched generation must give every prompt the tokens it gets alone, token for token, whatever the
 * batch size and whatever else shares the batch: prompts of mixed lengths, rows that stop at
 * different steps (EOS, their own token limits, a full context, the caller's hook), greedy and
 * sampled.
 */
class BatchedGenerationTest {
  static ModelConfig config(String arch) {
    return arch.equals("gpt2")
        ? Gpt2Family.of(60, 48, 32, 2, 4, 59)
        : LlamaFamily.of(arch, 60, 48, 48, 2, 6, 2, 40, 500.0, false, null, 59);
  }

  /** Nine prompts of 1 to 30 tokens, the last one leaving room for only 3 new tokens. */
  static List<int[]> prompts() {
    int[] lengths = {4, 1, 17, 9, 2, 30, 6, 12, 45};
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < lengths.length; i++) out.add(TinyModels.randomIds(lengths[i], 60, 40 + i));
    return out;
  }

  /**
   * A stop token that ends some rows early: the token most often produced by the one-at-a-time
   * greedy runs (without a stop token) at a step other than the first.
   */
  static int commonToken(Generator g, List<int[]> prompts) {
    int[] count = new int[60];
    for (int[] p : prompts) {
      int[] t = g.generate(p, Generator.Settings.greedy(12, -1)).tokens();
      Set<Integer> seen = new HashSet<>();
      for (int i = 1; i < t.length; i++) if (seen.add(t[i])) count[t[i]]++;
    }
    int best = 0;
    for (int v = 1; v < 60; v++) if (count[v] > count[best]) best = v;
    return best;
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama"})
  void greedyBatchedEqualsOneAtATimeTokenForToken(String arch) {
    CausalLm lm = TinyModels.random(config(arch), 5);
    Generator g = new Generator(lm);
    List<int[]> prompts = prompts();
    int eos = commonToken(g, prompts);
    List<Generator.Request> requests = new ArrayList<>();
    List<Generator.Result> alone = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      // Token limits differ per row, so rows end at different steps even without EOS.
      Generator.Settings s = Generator.Settings.greedy(6 + 2 * i, eos);
      requests.add(new Generator.Request(prompts.get(i), s));
      alone.add(g.generate(prompts.get(i), s));
    }
    Set<Integer> lengths = new HashSet<>();
    Set<Generator.Stop> stops = new HashSet<>();
    for (Generator.Result r : alone) {
      lengths.add(r.tokens().length);
      stops.add(r.stop());
    }
    // The test must exercise rows ending at different steps, for each reason.
    assertTrue(lengths.size() >= 4, "lengths " + lengths);
    assertEquals(
        Set.of(Generator.Stop.EOS, Generator.Stop.MAX_TOKENS, Generator.Stop.CONTEXT_FULL),
        stops,
        "stops");
    for (int batch : new int[] {1, 3, 16}) {
      List<Generator.Result> together = g.generate(requests, batch);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(
            alone.get(i).tokens(),
            together.get(i).tokens(),
            arch + " batch " + batch + " row " + i);
        assertEquals(alone.get(i).stop(), together.get(i).stop());
      }
    }
  }

  /**
   * A prompt's continuation does not depend on its neighbours or its place in the batch: sampled
   * rows draw from their own seeded streams, and equal the one-at-a-time sample for that seed.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama"})
  void sampledRowsAreIndependentOfTheBatchAndEqualTheirSoloRuns(String arch) {
    CausalLm lm = TinyModels.random(config(arch), 6);
    Generator g = new Generator(lm);
    List<int[]> prompts = prompts();
    int[] probe = prompts.get(2);
    Generator.Settings s = new Generator.Settings(15, 0.9, 0.95, 1234L, -1);
    int[] solo = g.generate(probe, s).tokens();
    assertEquals(15, solo.length);
    // Other seeds give other samples, so the comparisons below can fail.
    assertFalse(
        java.util.Arrays.equals(
            solo, g.generate(probe, new Generator.Settings(15, 0.9, 0.95, 99L, -1)).tokens()));
    for (int variant = 0; variant < 3; variant++) {
      List<Generator.Request> requests = new ArrayList<>();
      for (int i = 0; i < variant * 3; i++) {
        requests.add(
            new Generator.Request(
                prompts.get((i + variant) % prompts.size()),
                new Generator.Settings(4 + i, 0.7, 0.9, i, -1)));
      }
      int at = requests.size() / 2;
      requests.add(at, new Generator.Request(probe, s));
      for (int batch : new int[] {2, 8}) {
        int[] got = g.generate(requests, batch).get(at).tokens();
        assertArrayEquals(solo, got, "variant " + variant + " batch " + batch);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama"})
  void theHookStopsItsRowOnly(String arch) {
    CausalLm lm = TinyModels.random(config(arch), 5);
    Generator g = new Generator(lm);
    List<int[]> prompts = prompts().subList(0, 3);
    Generator.Settings s = Generator.Settings.greedy(10, -1);
    int[] seen = new int[1];
    List<Generator.Request> requests = new ArrayList<>();
    requests.add(new Generator.Request(prompts.get(0), s));
    requests.add(new Generator.Request(prompts.get(1), s, id -> ++seen[0] < 3));
    requests.add(new Generator.Request(prompts.get(2), s));
    List<Generator.Result> out = g.generate(requests, 4);
    assertEquals(Generator.Stop.STOPPED, out.get(1).stop());
    assertArrayEquals(
        java.util.Arrays.copyOf(g.generate(prompts.get(1), s).tokens(), 3), out.get(1).tokens());
    assertEquals(10, out.get(0).tokens().length);
    assertArrayEquals(g.generate(prompts.get(2), s).tokens(), out.get(2).tokens());
  }

  /**
   * When every row of a prefill ends at its first token (EOS), the requests still waiting take the
   * freed places: all results come back, each equal to its prompt decoded alone.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama"})
  void rowsEndingAtTheirFirstTokenMakeRoomForTheWaitingOnes(String arch) {
    CausalLm lm = TinyModels.random(config(arch), 5);
    Generator g = new Generator(lm);
    List<int[]> prompts = prompts();
    List<Generator.Request> requests = new ArrayList<>();
    List<Generator.Result> alone = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      int first = g.generate(prompts.get(i), Generator.Settings.greedy(1, -1)).tokens()[0];
      // The first four rows stop on their own first token; the others run to 5 tokens.
      Generator.Settings s = Generator.Settings.greedy(5, i < 4 ? first : -1);
      requests.add(new Generator.Request(prompts.get(i), s));
      alone.add(g.generate(prompts.get(i), s));
    }
    for (int i = 0; i < 4; i++) assertEquals(0, alone.get(i).tokens().length);
    for (int batch : new int[] {2, 4}) {
      List<Generator.Result> together = g.generate(requests, batch);
      for (int i = 0; i < prompts.size(); i++) {
        assertArrayEquals(alone.get(i).tokens(), together.get(i).tokens(), "row " + i);
        assertEquals(alone.get(i).stop(), together.get(i).stop(), "row " + i);
      }
    }
  }
}
