package dev.flantune.model;

import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
import java.util.Map;
import org.junit.jupiter.api.Assertions;

/**
 * The batch of a parity fixture's expected.safetensors, and the loss weights the references use.
 */
public final class FixtureBatches {
  private FixtureBatches() {}

  /**
   * The fixture's batch with the given loss mask; segments from segment_ids (packed) or the
   * attention mask (padded).
   */
  public static Batch batch(Map<String, Tensor> e, float[] lossMask) {
    int rows = (int) e.get("input_ids").shape()[0], t = (int) e.get("input_ids").shape()[1];
    int[] segments =
        e.containsKey("segment_ids")
            ? e.get("segment_ids").ints()
            : toInts(e.get("attention_mask").data());
    return new Batch(
        rows,
        t,
        e.get("input_ids").ints(),
        e.get("position_ids").ints(),
        segments,
        e.get("labels").ints(),
        lossMask);
  }

  public static int[] toInts(float[] f) {
    int[] out = new int[f.length];
    for (int i = 0; i < f.length; i++) out[i] = (int) f[i];
    return out;
  }

  /**
   * Asserts a gradient matches the reference tensor: max |Δ| ≤ {@code relToMax} · max |reference|,
   * per tensor (a relative bound that small entries cannot blow up), and the reference is not all
   * zero (a zero fixture would prove nothing).
   */
  public static void assertGradientClose(String what, Tensor want, float[] got, double relToMax) {
    float[] ref = want.data();
    Assertions.assertEquals(ref.length, got.length, what + ": gradient length");
    double maxRef = 0, maxErr = 0;
    for (int i = 0; i < got.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(ref[i]));
      maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
    }
    Assertions.assertTrue(maxRef > 0, what + ": reference gradient is all zero");
    Assertions.assertTrue(
        maxErr <= relToMax * maxRef, what + ": max error " + maxErr + " vs max " + maxRef);
  }

  /** The mask over its sum: the mean loss over target tokens, as the references compute it. */
  public static float[] meanWeights(float[] mask) {
    double sum = 0;
    for (float m : mask) sum += m;
    float[] w = new float[mask.length];
    for (int i = 0; i < mask.length; i++) w[i] = (float) (mask[i] / sum);
    return w;
  }
}
