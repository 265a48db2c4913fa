package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flantune.data.Batch;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The direct engine cuts its buffers from storage sized by the largest batch seen, and grows the LM
 * head's buffers with the number of scored rows. Batches of changing shapes (smaller, larger,
 * smaller again, more and fewer targets), interleaved with scoring, must give exactly what a fresh
 * engine gives for each batch.
 */
class EngineBufferReuseTest {
  static Batch batch(int rows, int t, int targets, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int n = rows * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = r.nextInt(61);
      labels[i] = r.nextInt(61);
      pos[i] = i % t;
      seg[i] = 1 + (i % t) / 5; // packed: segments of 5
      if (i % t >= t - 3) seg[i] = 0; // padding at the end of each row
    }
    for (int k = 0, placed = 0; placed < targets && k < n; k++) {
      if (seg[k] != 0 && r.nextInt(3) == 0) {
        mask[k] = 1f / targets;
        placed++;
      }
    }
    for (int i = 0; i < n; i++) if (seg[i] == 0) pos[i] = 0;
    return new Batch(rows, t, ids, pos, seg, labels, mask);
  }

  @Test
  void changingShapesGiveWhatAFreshEngineGives() {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(61, 32, 24, 2, 3, 60);
    var weights = dev.flantune.model.ModelInit.randomWeights(c, 4);
    CausalLm shared = CausalLm.fromTensors(c, weights, null);
    var reused = new dev.flantune.model.cpu.CpuEngine(shared);
    Batch[] batches = {
      batch(2, 12, 4, 1),
      batch(3, 20, 30, 2),
      batch(1, 9, 2, 3),
      batch(4, 16, 40, 4),
      batch(2, 12, 6, 5)
    };
    for (int i = 0; i < batches.length; i++) {
      Batch b = batches[i];
      var fresh = new dev.flantune.model.cpu.CpuEngine(CausalLm.fromTensors(c, weights, null));
      fresh.zeroGradients();
      reused.zeroGradients();
      double want = fresh.accumulate(b, b.lossMask());
      double got = reused.accumulate(b, b.lossMask());
      assertEquals(want, got, 0.0, "loss of batch " + i);
      assertArrayEquals(
          fresh.gradientBuffer().flat().dup().data().asFloat(),
          reused.gradientBuffer().flat().dup().data().asFloat(),
          0f,
          "gradients of batch " + i);
      var s1 = reused.score(b, KeyRanges.of(b));
      var s2 = fresh.score(b, KeyRanges.of(b));
      assertArrayEquals(s2.nll(), s1.nll(), 0.0, "scores of batch " + i);
      assertArrayEquals(s2.argmax(), s1.argmax());
    }
  }

  @Test
  void batchesPastTheIndexRangeAreAUsageErrorBeforeAnyAllocation() {
    // MLP activations t × 2F > 2^31 (attention keeps no t² scores: long sequences alone fit).
    int t = 20_000;
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.LlamaFamily.of(
            "llama", 61, t, 8, 1, 2, 1, 65_536, 10_000, true, null, 60);
    var engine = new dev.flantune.model.cpu.CpuEngine(CausalLm.random(c, 1));
    int[] zeros = new int[t], pos = new int[t], seg = new int[t];
    float[] mask = new float[t];
    for (int i = 0; i < t; i++) {
      pos[i] = i;
      seg[i] = 1;
    }
    mask[t - 1] = 1f;
    Batch b = new Batch(1, t, zeros, pos, seg, zeros, mask);
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.flantune.util.FlanTuneException.class, () -> engine.accumulate(b, mask));
    org.junit.jupiter.api.Assertions.assertTrue(
        e.getMessage().contains("FLAN_TUNE_ENGINE=graph"), e.getMessage());
  }
}
