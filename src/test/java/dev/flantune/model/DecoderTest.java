package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.checkpoint.Safetensors;
import dev.flantune.checkpoint.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The incremental forward must give, at every step, the logits the full SameDiff forward gives for
 * the whole sequence, and the logits of the independent PyTorch reference. Both decoders: the CPU
 * engine's key/value cache and {@link GraphDecoder}.
 */
class DecoderTest {
  static final double LOGIT_ABS = 1e-4;

  static double maxDiff(float[] a, INDArray fullRow) {
    float[] b = fullRow.toFloatVector();
    assertEquals(b.length, a.length);
    double m = 0;
    for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  }

  static Decoder decoder(String kind, CausalLm lm) {
    return kind.equals("cpu") ? lm.cpu().decoder() : new GraphDecoder(lm);
  }

  /** Prefills {@code prefill} tokens, then steps one token at a time; returns the max error. */
  static double cachedVsFull(String kind, CausalLm lm, int[] ids, int prefill) {
    INDArray full = lm.logits(TinyModels.row(ids)); // [T, V]
    Decoder dec = decoder(kind, lm);
    int[] first = java.util.Arrays.copyOf(ids, prefill);
    double max = maxDiff(dec.append(first), full.getRow(prefill - 1));
    for (int t = prefill; t < ids.length; t++)
      max = Math.max(max, maxDiff(dec.append(ids[t]), full.getRow(t)));
    assertEquals(ids.length, dec.length());
    return max;
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "graph"})
  void everyStepMatchesTheFullForward(String kind) {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(50, 24, 32, 2, 4, 49);
    CausalLm lm = TinyModels.random(c, 7);
    int[] ids = TinyModels.randomIds(24, 50, 11); // fills n_positions exactly
    double fromPrompt = cachedVsFull(kind, lm, ids, 6);
    double fromOne = cachedVsFull(kind, lm, ids, 1);
    double allAtOnce = cachedVsFull(kind, lm, ids, ids.length);
    System.out.printf(
        "%s decoder vs full forward, max |Δlogit|: prefill 6 %.3g, prefill 1 %.3g, prefill all"
            + " %.3g%n",
        kind, fromPrompt, fromOne, allAtOnce);
    assertTrue(fromPrompt <= LOGIT_ABS, "prefill 6: " + fromPrompt);
    assertTrue(fromOne <= LOGIT_ABS, "prefill 1: " + fromOne);
    assertTrue(allAtOnce <= LOGIT_ABS, "prefill all: " + allAtOnce);
  }

  @Test
  void logitsAreNotTrivial() {
    // Guards the test above: with near-uniform logits any decoder would pass 1e-4.
    CausalLm lm =
        TinyModels.random(dev.flantune.model.family.Gpt2Family.of(50, 24, 32, 2, 4, 49), 7);
    float[] l = new GraphDecoder(lm).append(TinyModels.randomIds(5, 50, 3));
    double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
    for (float x : l) {
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    assertTrue(max - min > 1.0, "logit range " + (max - min));
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "graph"})
  void untiedOddHeadCountParityFixture(String kind) {
    Path dir = Path.of("src/test/resources/parity/untied");
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm lm = CausalLm.load(dir);
    int t = (int) e.get("input_ids").shape()[1];
    int v = lm.config().vocabSize();
    int[] ids = e.get("input_ids").ints();
    float[] mask = e.get("attention_mask").data();
    float[] want = e.get("logits").data(); // PyTorch float64 reference, [B, T, V]
    Decoder dec = decoder(kind, lm);
    double max = 0;
    for (int r = 0; r < 2; r++) {
      dec.reset();
      int len = 0;
      while (len < t && mask[r * t + len] == 1f) len++;
      int[] row = java.util.Arrays.copyOfRange(ids, r * t, r * t + len);
      max = Math.max(max, cachedVsFull(kind, lm, row, 2));
      float[] first = dec.append(row[0]);
      for (int j = 0; j < v; j++) max = Math.max(max, Math.abs(first[j] - want[(r * t) * v + j]));
      for (int p = 1; p < len; p++) {
        float[] got = dec.append(row[p]);
        for (int j = 0; j < v; j++)
          max = Math.max(max, Math.abs(got[j] - want[(r * t + p) * v + j]));
      }
    }
    System.out.printf("KV cache vs PyTorch reference (untied, H=3), max |Δlogit| %.3g%n", max);
    assertTrue(max <= LOGIT_ABS, "max logit error " + max);
  }

  @ParameterizedTest
  @ValueSource(strings = {"cpu", "graph"})
  void refusesToOverflowAndResetsCleanly(String kind) {
    CausalLm lm =
        TinyModels.random(dev.flantune.model.family.Gpt2Family.of(50, 8, 16, 1, 2, 49), 1);
    Decoder dec = decoder(kind, lm);
    float[] first = dec.append(1, 2, 3);
    float[] later = dec.append(4, 5, 6, 7, 8); // more than one token onto a filled cache
    float[] full =
        lm.logits(TinyModels.row(new int[] {1, 2, 3, 4, 5, 6, 7, 8})).getRow(7).toFloatVector();
    for (int j = 0; j < full.length; j++) assertEquals(full[j], later[j], LOGIT_ABS);
    assertEquals(0, dec.remaining());
    assertThrows(IllegalArgumentException.class, () -> dec.append(9));
    dec.reset();
    assertArrayEquals(first, dec.append(1, 2, 3), 0f);
    assertThrows(IllegalArgumentException.class, () -> dec.append(50)); // outside the vocabulary
  }

  /** Llama-family decoders: RoPE at each cached position, grouped KV heads, biases, SwiGLU. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource({
    "cpu, llama",
    "graph, llama",
    "cpu, qwen2",
    "graph, qwen2",
    "cpu, mistral"
  })
  void llamaFamilyEveryStepMatchesTheFullForward(String kind, String arch) {
    // H = 6 query heads over KV = 2 (llama, mistral) or 1 (qwen2, with q/k/v biases).
    ModelConfig c =
        dev.flantune.model.family.LlamaFamily.of(
            arch, 50, 24, 48, 2, 6, arch.equals("qwen2") ? 1 : 2, 40, 500.0, false, null, 49);
    CausalLm lm = TinyModels.random(c, 7);
    int[] ids = TinyModels.randomIds(24, 50, 11);
    double fromPrompt = cachedVsFull(kind, lm, ids, 6);
    double fromOne = cachedVsFull(kind, lm, ids, 1);
    System.out.printf(
        "%s %s decoder vs full forward, max |Δlogit|: prefill 6 %.3g, prefill 1 %.3g%n",
        kind, arch, fromPrompt, fromOne);
    assertTrue(fromPrompt <= LOGIT_ABS, "prefill 6: " + fromPrompt);
    assertTrue(fromOne <= LOGIT_ABS, "prefill 1: " + fromOne);
  }

  /** The cached decoder against the float64 Llama reference's logits, row by row. */
  @ParameterizedTest
  @ValueSource(strings = {"llama-gqa-pad", "llama3-scaled-untied"})
  void llamaParityFixtureDecodedTokenByToken(String name) {
    Path dir = Path.of("src/test/resources/parity-llama").resolve(name);
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm lm = CausalLm.load(dir);
    int rows = (int) e.get("input_ids").shape()[0], t = (int) e.get("input_ids").shape()[1];
    int v = lm.config().vocabSize();
    int[] ids = e.get("input_ids").ints();
    float[] mask = e.get("attention_mask").data();
    float[] want = e.get("logits").data();
    Decoder dec = lm.cpu().decoder();
    double max = 0;
    for (int r = 0; r < rows; r++) {
      dec.reset();
      for (int p = 0; p < t && mask[r * t + p] == 1f; p++) {
        float[] got = dec.append(ids[r * t + p]);
        for (int j = 0; j < v; j++)
          max = Math.max(max, Math.abs(got[j] - want[(r * t + p) * v + j]));
      }
    }
    System.out.printf("%s: cached decoder vs PyTorch reference, max |Δlogit| %.3g%n", name, max);
    assertTrue(max <= LOGIT_ABS, "max logit error " + max);
  }
}
