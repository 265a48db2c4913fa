package dev.flantune.model;

import dev.flantune.data.Batch;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The additive attention bias [B, 1, T, T] of a batch: query q may attend to key k iff both belong
 * to the same (non-padding) segment and k ≤ q. With one segment per row this is the usual causal
 * mask combined with padding; with several it is block-diagonal causal, so packed examples never
 * see each other. Padding queries see nothing (a uniform softmax over masked keys, never NaN).
 */
public final class AttentionBias {
  private AttentionBias() {}

  public static float[] compute(Batch b) {
    int rows = b.rows(), t = b.length();
    int[] seg = b.segmentIds();
    float[] bias = new float[rows * t * t];
    java.util.Arrays.fill(bias, ModelGraph.MASKED);
    for (int r = 0; r < rows; r++) {
      int base = r * t;
      for (int q = 0; q < t; q++) {
        int sq = seg[base + q];
        if (sq == 0) continue;
        int row = (r * t + q) * t;
        for (int k = q; k >= 0 && seg[base + k] == sq; k--) bias[row + k] = 0f;
      }
    }
    return bias;
  }

  public static INDArray of(Batch b) {
    return Nd4j.createFromArray(compute(b)).reshape(b.rows(), 1, b.length(), b.length());
  }

  /** Whether query q of row r may attend to key k (for tests and diagnostics). */
  public static boolean allowed(float[] bias, Batch b, int r, int q, int k) {
    int t = b.length();
    return bias[(r * t + q) * t + k] == 0f;
  }
}
