package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.data.Batch;
import dev.flantune.model.KeyRanges;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The fused attention against a plain reference in double precision (softmax over each query's
 * keys, then its hand-derived gradients) on random shapes: grouped heads, packed segments, padding
 * (queries that see nothing), shared contexts, lengths that are not multiples of the tiles.
 */
class FusedAttentionTest {
  @Test
  void forwardAndGradientsMatchTheReference() {
    Random r = new Random(17);
    int[][] shapes = { // rows, T, H, KV, D
      {1, 1, 1, 1, 8},
      {2, 5, 2, 1, 4},
      {1, 64, 2, 2, 16},
      {2, 65, 4, 2, 8},
      {1, 130, 3, 1, 24},
      {3, 70, 4, 4, 64},
      {1, 200, 6, 2, 32},
    };
    for (int[] sh : shapes) {
      for (String layout : new String[] {"causal", "packed", "shared"}) {
        FusedAttention.Dims dm = new FusedAttention.Dims(sh[0], sh[1], sh[2], sh[3], sh[4]);
        check(dm, keys(r, dm, layout), r, layout);
      }
    }
  }

  /**
   * The backward's work split: each (row, key/value head) gets enough query-tile parts for {@link
   * FusedAttention#MIN_UNITS} units (one KV head at batch 1 used to run on one core), parts cover
   * the tiles in order, and their causal work (tile i ≈ i + 1 key tiles) is even.
   */
  @Test
  void backwardSplitsFewHeadsIntoEvenParts() {
    // rows, T, KV → parts
    int[][] cases = {
      {1, 1024, 3, 6}, {4, 256, 3, 2}, {1, 1024, 8, 2}, {2, 2048, 8, 1}, {1, 64, 1, 1}
    };
    for (int[] c : cases) {
      FusedAttention.Dims dm = new FusedAttention.Dims(c[0], c[1], c[2] * 3, c[2], 64, true);
      int[] first = FusedAttention.queryParts(dm, dm.nKv());
      int tiles = (c[1] + FusedAttention.BQ - 1) / FusedAttention.BQ, parts = first.length - 1;
      String at = java.util.Arrays.toString(c) + " → " + java.util.Arrays.toString(first);
      assertEquals(c[3], parts, at);
      assertEquals(0, first[0], at);
      assertEquals(tiles, first[parts], at);
      long total = (long) tiles * (tiles + 1) / 2, most = 0;
      for (int p = 0; p < parts; p++) {
        assertTrue(first[p + 1] > first[p], at + ": part " + p + " is empty");
        long work = 0;
        for (int i = first[p]; i < first[p + 1]; i++) work += i + 1;
        most = Math.max(most, work);
      }
      // the largest part within half of the largest tile's work (`tiles`) of an even share
      assertTrue(
          most <= total / parts + tiles / 2 + 1, at + ": largest part " + most + " of " + total);
    }
  }

  /** Key ranges: one segment per row; random packed segments with padding; a shared context. */
  static KeyRanges keys(Random r, FusedAttention.Dims dm, String layout) {
    int t = dm.t(), n = dm.rows() * t;
    int[] seg = new int[n], pos = new int[n], ids = new int[n];
    for (int b = 0; b < dm.rows(); b++) {
      int s = 1;
      for (int q = 0; q < t; q++) {
        pos[b * t + q] = q;
        if (layout.equals("causal")) seg[b * t + q] = 1;
        else {
          if (q > 0 && r.nextInt(9) == 0) s++;
          seg[b * t + q] = r.nextInt(7) == 0 ? 0 : s; // 0 = padding: sees nothing
        }
      }
    }
    KeyRanges k = KeyRanges.of(new Batch(dm.rows(), t, ids, pos, seg, ids, new float[n]));
    if (!layout.equals("shared")) return k;
    int[] shared = new int[n];
    for (int i = 0; i < n; i++) shared[i] = Math.min(k.lo()[i], t / 3); // context [0, T/3)
    return new KeyRanges(shared, k.lo());
  }

  private static void check(FusedAttention.Dims dm, KeyRanges keys, Random r, String what) {
    int n = dm.rows() * dm.t(), a = dm.nH() * dm.d(), w = (dm.nH() + 2 * dm.nKv()) * dm.d();
    float scale = (float) (1 / Math.sqrt(dm.d()));
    float[] heads = gaussian(r, n * w, 1.5), dy = gaussian(r, n * a, 1);
    FloatBuffer y = FloatBuffer.allocate(n * a), dheads = FloatBuffer.allocate(n * w);
    float[] lse = new float[dm.rows() * dm.nH() * dm.t()];
    FusedAttention.forward(FloatBuffer.wrap(heads), y, lse, keys, dm, scale);
    FusedAttention.backward(
        FloatBuffer.wrap(heads), y, lse, FloatBuffer.wrap(dy), dheads, keys, dm, scale);

    double[][] ref = reference(dm, keys, heads, dy, scale);
    String at = what + " " + dm;
    assertClose(ref[0], y.array(), at + ": y");
    assertClose(ref[1], dheads.array(), at + ": d(q|k|v)");
    for (int i = 0; i < n; i++) { // a query that sees nothing: output exactly 0, like the reference
      if (keys.shared()[i] > 0 || keys.lo()[i] <= i % dm.t()) continue;
      for (int c = 0; c < a; c++) assertEquals(0f, y.get(i * a + c), at + ": empty query " + i);
    }
  }

  /** Max difference within 1e-5 of the tensor's largest value. */
  private static void assertClose(double[] want, float[] got, String what) {
    double max = 0, err = 0;
    for (double v : want) max = Math.max(max, Math.abs(v));
    for (int i = 0; i < want.length; i++) err = Math.max(err, Math.abs(want[i] - got[i]));
    assertTrue(err <= 1e-5 * Math.max(max, 1e-3), what + ": max error " + err + " of " + max);
  }

  /** {y, d(q|k|v)} by the definition, in double precision, per (row, head, query). */
  private static double[][] reference(
      FusedAttention.Dims dm, KeyRanges keys, float[] heads, float[] dy, float scale) {
    int t = dm.t(), d = dm.d(), a = dm.nH() * d;
    double[] y = new double[dm.rows() * t * a], dh = new double[heads.length];
    double[] p = new double[t], dp = new double[t];
    for (int b = 0; b < dm.rows(); b++) {
      for (int h = 0; h < dm.nH(); h++) {
        int kv = h / dm.group(), qo = dm.qOffset(b, h), ko = dm.kOffset(b, kv);
        int vo = dm.vOffset(b, kv);
        for (int q = 0; q < t; q++) {
          int i = b * t + q, lo = keys.lo()[i], sh = Math.min(keys.shared()[i], lo);
          double max = Double.NEGATIVE_INFINITY;
          boolean[] sees = new boolean[t];
          for (int k = 0; k < t; k++) {
            sees[k] = k < sh || (k >= lo && k <= q);
            if (!sees[k]) continue;
            double s = 0;
            for (int c = 0; c < d; c++) s += (double) heads[qo + q * d + c] * heads[ko + k * d + c];
            p[k] = s * scale;
            max = Math.max(max, p[k]);
          }
          double sum = 0;
          for (int k = 0; k < t; k++) sum += sees[k] ? (p[k] = Math.exp(p[k] - max)) : 0;
          for (int k = 0; k < t; k++) p[k] = sees[k] ? p[k] / sum : 0;
          int yo = dm.tokenOffset(b, q, h);
          double dot = 0;
          for (int k = 0; k < t; k++) {
            if (!sees[k]) continue;
            double g = 0;
            for (int c = 0; c < d; c++) {
              y[yo + c] += p[k] * heads[vo + k * d + c];
              g += (double) dy[yo + c] * heads[vo + k * d + c];
              dh[vo + k * d + c] += p[k] * dy[yo + c]; // dV = Pᵀ·dY
            }
            dp[k] = g;
            dot += g * p[k];
          }
          for (int k = 0; k < t; k++) {
            if (!sees[k]) continue;
            double ds = p[k] * (dp[k] - dot) * scale;
            for (int c = 0; c < d; c++) {
              dh[qo + q * d + c] += ds * heads[ko + k * d + c];
              dh[ko + k * d + c] += ds * heads[qo + q * d + c];
            }
          }
        }
      }
    }
    return new double[][] {y, dh};
  }

  private static float[] gaussian(Random r, int n, double sd) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * sd);
    return x;
  }
}
