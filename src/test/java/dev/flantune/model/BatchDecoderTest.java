package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.checkpoint.Safetensors;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.model.family.Gpt2Family;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The batched step must give every row the logits of a full forward pass over that row's own
 * sequence, whatever its length and whichever rows share the step, and the PyTorch reference's
 * logits on the parity fixtures.
 */
class BatchDecoderTest {
  static ModelConfig config(String arch) {
    return TinyModels.decoderConfig(arch);
  }

  /**
   * Rows with prompts of 1 to 13 tokens; each step feeds a random token to a random subset of the
   * rows (rows leave and come back, so lengths and positions drift apart), and every row's logits
   * are checked against the full forward of its whole sequence.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2", "llama", "qwen2"})
  void everyRowOfEveryStepMatchesTheFullForward(String arch) {
    CausalLm lm = TinyModels.random(config(arch), 7);
    BatchDecoder batch = BatchDecoder.forModel(lm);
    int[] promptLengths = {5, 1, 13, 2, 8, 3};
    int rows = promptLengths.length;
    Decoder[] dec = new Decoder[rows];
    List<int[]> seqs = new ArrayList<>();
    double max = 0;
    for (int r = 0; r < rows; r++) {
      dec[r] = batch.open();
      int[] prompt = TinyModels.randomIds(promptLengths[r], 50, 100 + r);
      seqs.add(prompt);
      max = Math.max(max, maxDiff(dec[r].append(prompt), lastRow(lm, prompt)));
    }
    SplittableRandom rng = new SplittableRandom(3);
    int steps = 0;
    for (int step = 0; step < 20; step++) {
      List<Integer> chosen = new ArrayList<>();
      for (int r = 0; r < rows; r++) if (rng.nextInt(3) > 0) chosen.add(r);
      if (chosen.isEmpty()) continue;
      Decoder[] some = new Decoder[chosen.size()];
      int[] tokens = new int[chosen.size()];
      for (int j = 0; j < some.length; j++) {
        some[j] = dec[chosen.get(j)];
        tokens[j] = rng.nextInt(50);
      }
      float[][] logits = batch.step(some, tokens);
      steps++;
      for (int j = 0; j < some.length; j++) {
        int r = chosen.get(j);
        int[] seq = Arrays.copyOf(seqs.get(r), seqs.get(r).length + 1);
        seq[seq.length - 1] = tokens[j];
        seqs.set(r, seq);
        assertEquals(seq.length, dec[r].length());
        max = Math.max(max, maxDiff(logits[j], lastRow(lm, seq)));
      }
    }
    System.out.printf(
        "%s batched step vs full forward over %d steps, max |Δlogit| %.3g%n", arch, steps, max);
    assertTrue(max <= DecoderTest.LOGIT_ABS, "max logit error " + max);
  }

  /** The batched step against the float64 PyTorch reference: rows of different lengths at once. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "parity/pad",
        "parity/untied",
        "parity-llama/llama-gqa-pad",
        "parity-llama/llama3-scaled-untied"
      })
  void parityFixtureRowsSteppedTogether(String name) {
    Path dir = Path.of("src/test/resources").resolve(name);
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm lm = CausalLm.load(dir);
    int rows = (int) e.get("input_ids").shape()[0], t = (int) e.get("input_ids").shape()[1];
    int v = lm.config().vocabSize();
    int[] ids = e.get("input_ids").ints();
    float[] mask = e.get("attention_mask").data();
    float[] want = e.get("logits").data(); // [B, T, V]
    int[] len = new int[rows];
    for (int r = 0; r < rows; r++) while (len[r] < t && mask[r * t + len[r]] == 1f) len[r]++;
    BatchDecoder batch = BatchDecoder.forModel(lm);
    Decoder[] dec = new Decoder[rows];
    double max = 0;
    for (int r = 0; r < rows; r++) {
      dec[r] = batch.open();
      float[] got = dec[r].append(ids[r * t]); // one-token prompts: every later position batched
      max = Math.max(max, maxDiff(got, want, r * t * v));
    }
    for (int p = 1; p < t; p++) {
      List<Integer> live = new ArrayList<>();
      for (int r = 0; r < rows; r++) if (p < len[r]) live.add(r);
      if (live.isEmpty()) break;
      Decoder[] some = new Decoder[live.size()];
      int[] tokens = new int[live.size()];
      for (int j = 0; j < some.length; j++) {
        some[j] = dec[live.get(j)];
        tokens[j] = ids[live.get(j) * t + p];
      }
      float[][] logits = batch.step(some, tokens);
      for (int j = 0; j < some.length; j++)
        max = Math.max(max, maxDiff(logits[j], want, (live.get(j) * t + p) * v));
    }
    System.out.printf("%s: batched steps vs PyTorch reference, max |Δlogit| %.3g%n", name, max);
    assertTrue(max <= DecoderTest.LOGIT_ABS, "max logit error " + max);
  }

  @Test
  void refusesARowWithoutRoomAndAForeignRow() {
    CausalLm lm = TinyModels.random(Gpt2Family.of(50, 8, 16, 1, 2, 49), 1);
    BatchDecoder batch = BatchDecoder.forModel(lm);
    Decoder full = batch.open();
    full.append(1, 2, 3, 4, 5, 6, 7, 8);
    Decoder ok = batch.open();
    ok.append(1);
    assertThrows(
        IllegalArgumentException.class, () -> batch.step(new Decoder[] {ok, full}, new int[2]));
    assertThrows(
        IllegalArgumentException.class,
        () -> batch.step(new Decoder[] {new GraphDecoder(lm)}, new int[1]));
    assertThrows(
        IllegalArgumentException.class, () -> batch.step(new Decoder[] {ok}, new int[] {50}));
  }

  /** The graph engine's fallback steps its rows one at a time, to the same logits. */
  @Test
  void oneAtATimeFallbackGivesTheSameLogits() {
    CausalLm lm = TinyModels.random(config("llama"), 7);
    BatchDecoder cpu = BatchDecoder.forModel(lm), graph = new BatchDecoder.OneAtATime(lm);
    Decoder[] a = {cpu.open(), cpu.open()}, b = {graph.open(), graph.open()};
    int[][] prompts = {{1, 2, 3}, {4}};
    for (int r = 0; r < 2; r++) {
      assertTrue(maxDiff(a[r].append(prompts[r]), b[r].append(prompts[r])) <= 1e-4);
    }
    float[][] x = cpu.step(a, new int[] {5, 6}), y = graph.step(b, new int[] {5, 6});
    for (int r = 0; r < 2; r++) assertTrue(maxDiff(x[r], y[r]) <= 1e-4);
  }

  private static float[] lastRow(CausalLm lm, int[] seq) {
    return lm.logits(TinyModels.row(seq)).getRow(seq.length - 1).toFloatVector();
  }

  private static double maxDiff(float[] a, float[] b) {
    assertEquals(b.length, a.length);
    return maxDiff(a, b, 0);
  }

  private static double maxDiff(float[] got, float[] want, int offset) {
    double m = 0;
    for (int j = 0; j < got.length; j++) m = Math.max(m, Math.abs(got[j] - want[offset + j]));
    return m;
  }
}
