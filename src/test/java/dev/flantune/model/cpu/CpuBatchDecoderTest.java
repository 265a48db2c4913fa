package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.model.Decoder;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.TinyModels;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The batched decoder's own parts: the panel product against a float64 reference, and the batched
 * prefill (all prompts in one pass, or in chunks) against each prompt prefilled alone by the
 * single-sequence decoder, cache entry by cache entry.
 */
class CpuBatchDecoderTest {
  static ModelConfig config(String arch) {
    return TinyModels.decoderConfig(arch);
  }

  /**
   * y (+)= x·W + b for every row count 1-9 (full 4-row blocks and single rows), widths that leave a
   * partial last panel, both storage layouts, with and without bias and accumulation, panels on the
   * heap and in native memory.
   */
  @Test
  void panelProductEqualsAFloat64Reference() {
    SplittableRandom rng = new SplittableRandom(11);
    int[][] shapes = {{5, 3}, {40, 130}, {128, 2 * Panels.WIDTH}, {7, Panels.WIDTH + 1}};
    double worst = 0;
    for (int[] shape : shapes) {
      int k = shape[0], n = shape[1];
      float[] w = new float[k * n], bias = new float[n];
      for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
      for (int j = 0; j < n; j++) bias[j] = (float) rng.nextGaussian();
      for (boolean outIn : new boolean[] {false, true}) {
        // The flat buffer holds W at offset 3, as [K, N] or as [N, K].
        float[] flat = new float[3 + k * n];
        for (int i = 0; i < k; i++)
          for (int j = 0; j < n; j++) flat[3 + (outIn ? j * k + i : i * n + j)] = w[i * n + j];
        for (int variant = 0; variant < 4; variant++) {
          boolean withBias = variant % 2 == 1, onHeap = variant < 2;
          Panels p =
              Panels.copy(FloatBuffer.wrap(flat), 3, k, n, outIn, withBias ? bias : null, onHeap);
          for (int m = 1; m <= 9; m++) {
            for (boolean acc : new boolean[] {false, true}) {
              float[][] x = new float[m][k], y = new float[m][n];
              for (float[] row : x) for (int i = 0; i < k; i++) row[i] = (float) rng.nextGaussian();
              for (float[] row : y) for (int j = 0; j < n; j++) row[j] = (float) rng.nextGaussian();
              float[][] before = new float[m][];
              for (int r = 0; r < m; r++) before[r] = y[r].clone();
              p.multiply(x, m, y, acc);
              for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                  double want = (acc ? before[r][j] : 0) + (withBias ? bias[j] : 0);
                  for (int i = 0; i < k; i++) want += (double) x[r][i] * w[i * n + j];
                  worst = Math.max(worst, Math.abs(y[r][j] - want) / (1 + Math.abs(want)));
                }
              }
            }
          }
        }
      }
    }
    assertTrue(worst < 1e-5, "relative error " + worst);
  }

  /**
   * Prompts of 1 to 39 tokens prefilled together leave every row's cache (keys and values of every
   * layer at every position) and its next-token logits as each prompt prefilled alone does; so do
   * passes of 7 tokens (long prompts split across passes, several short ones sharing one).
   */
  @ParameterizedTest
  @CsvSource({"gpt2,512", "llama,512", "qwen2,512", "gpt2,7", "llama,7", "qwen2,7"})
  void batchedPrefillFillsTheCacheOfEachPromptAlone(String arch, int chunk) {
    CausalLm lm = TinyModels.random(config(arch), 3);
    int[] lengths = {5, 1, 39, 2, 13, 8};
    int rows = lengths.length, layers = lm.config().nLayer();
    int[][] prompts = new int[rows][];
    for (int r = 0; r < rows; r++) prompts[r] = TinyModels.randomIds(lengths[r], 50, 20 + r);
    String key = "flantune.prefillChunkTokens";
    CpuBatchDecoder batch;
    System.setProperty(key, Integer.toString(chunk));
    try {
      batch = new CpuBatchDecoder(lm.cpu());
    } finally {
      System.clearProperty(key);
    }
    Decoder[] dec = new Decoder[rows];
    for (int r = 0; r < rows; r++) dec[r] = batch.open();
    float[][] logits = batch.append(dec, prompts);
    double cache = 0, logit = 0;
    for (int r = 0; r < rows; r++) {
      CpuDecoder alone = (CpuDecoder) lm.cpu().decoder();
      float[] want = alone.append(prompts[r]);
      CpuDecoder got = (CpuDecoder) dec[r];
      assertEquals(lengths[r], got.length());
      logit = Math.max(logit, maxDiff(logits[r], 0, want, 0, want.length));
      int d = lm.config().headSize();
      for (int l = 0; l < layers; l++) {
        for (int g = 0; g < lm.config().nKvHead(); g++) {
          int a = g * got.capacity() * d, b = g * alone.capacity() * d, n = lengths[r] * d;
          cache = Math.max(cache, relDiff(got.keys(l), a, alone.keys(l), b, n));
          cache = Math.max(cache, relDiff(got.values(l), a, alone.values(l), b, n));
        }
      }
    }
    System.out.printf(
        "%s batched prefill (passes of <= %d tokens) vs alone: cache %.3g (relative), logits %.3g%n",
        arch, chunk, cache, logit);
    // Float rounding of two different product orders through the layers: measured 1e-6 (gpt2) to
    // 2.8e-6 (llama); a wrong position or row shows up as O(1).
    assertTrue(cache <= 5e-6, "cache differs by " + cache);
    assertTrue(logit <= 2e-5, "logits differ by " + logit);
  }

  /** max |a − b| / (1 + |b|): the test models' weights are scaled up, so are their keys. */
  private static double relDiff(float[] a, int aOff, float[] b, int bOff, int n) {
    double m = 0;
    for (int i = 0; i < n; i++)
      m = Math.max(m, Math.abs(a[aOff + i] - b[bOff + i]) / (1 + Math.abs(b[bOff + i])));
    return m;
  }

  private static double maxDiff(float[] a, int aOff, float[] b, int bOff, int n) {
    double m = 0;
    for (int i = 0; i < n; i++) m = Math.max(m, Math.abs(a[aOff + i] - b[bOff + i]));
    return m;
  }
}
