package dev.flantune.model.cpu;

import dev.flantune.model.KeyRanges;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/**
 * Causal attention in tiles with an online softmax (FlashAttention, Dao et al. 2022, and its
 * backward as in FlashAttention-2, Dao 2023): queries in tiles of {@link #BQ}, keys in tiles of
 * {@link #BK}, only the key tiles some query of the tile may see ({@link KeyRanges}: causal, packed
 * segments, shared contexts), each query's running max and sum kept while its keys stream by. The
 * T×T probabilities are never stored: the forward keeps one logsumexp per query and the backward
 * recomputes each tile's probabilities from it. Tile products go to {@link Simd#mm}.
 *
 * <p>Layouts: q|k|v either token-major as the q|k|v projection writes them ([B·T, W], W = (H +
 * 2·KV)·D: a token's q heads, then its k heads, then its v heads; what the engine runs, so no copy
 * into heads is needed) or head-major (q [B, H, T, D], then k and v [B, KV, T, D]); their gradients
 * in the same layout; the output y and its gradient dy token-major [B·T, H·D]; the logsumexps [B,
 * H, T]. Query head h reads key/value head h / G (grouped heads, G = H / KV).
 */
final class FusedAttention {
  private FusedAttention() {}

  /** Query and key tile sizes (multiples of 4 and of 2·{@link Simd#LANES} for 8 or 16 lanes). */
  static final int BQ = 64, BK = 64;

  /** Sizes of one call: rows B, length T, heads H and KV, head size D; the q|k|v layout. */
  record Dims(int rows, int t, int nH, int nKv, int d, boolean tokenMajor) {
    /** Head-major q|k|v. */
    Dims(int rows, int t, int nH, int nKv, int d) {
      this(rows, t, nH, nKv, d, false);
    }

    int group() {
      return nH / nKv;
    }

    /** Head size padded to whole vector pairs, length padded to whole tiles. */
    int dp() {
      return Simd.roundUp(d, 2 * Simd.LANES);
    }

    int tp() {
      return Simd.roundUp(t, Math.max(BQ, BK));
    }

    /** Floats from one position of a q, k or v head to the next: W token-major, D head-major. */
    int stride() {
      return tokenMajor ? (nH + 2 * nKv) * d : d;
    }

    /** Where query head h of row b starts (position 0). */
    int qOffset(int b, int h) {
      return tokenMajor ? b * t * stride() + h * d : (b * nH + h) * t * d;
    }

    int kOffset(int b, int kv) {
      return tokenMajor
          ? b * t * stride() + (nH + kv) * d
          : rows * t * nH * d + (b * nKv + kv) * t * d;
    }

    int vOffset(int b, int kv) {
      return tokenMajor
          ? b * t * stride() + (nH + nKv + kv) * d
          : rows * t * (nH + nKv) * d + (b * nKv + kv) * t * d;
    }

    /** Where (row b, position pos, head h) starts in a token-major [B·T, H·D] buffer. */
    int tokenOffset(int b, int pos, int h) {
      return ((b * t + pos) * nH + h) * d;
    }
  }

  /** Which keys each query of a tile sees, and the span of keys the tile must visit. */
  private static final class TileKeys {
    final int[] lo = new int[BQ], shared = new int[BQ], pos = new int[BQ];
    int keyFrom, keyTo; // [keyFrom, keyTo): every key some query of the tile sees
    int allFrom, allTo; // [allFrom, allTo]: keys every query of the tile sees (by its own range)

    /** Fills the tile starting at position q0 of row b; false when no query sees anything. */
    boolean of(KeyRanges keys, int b, int q0, int t) {
      keyFrom = Integer.MAX_VALUE;
      keyTo = 0;
      allFrom = 0;
      allTo = Integer.MAX_VALUE;
      for (int r = 0; r < BQ; r++) {
        int q = q0 + r;
        pos[r] = q;
        allFrom = Math.max(allFrom, q >= t ? q + 1 : keys.lo()[b * t + q]);
        allTo = Math.min(allTo, q);
        if (q >= t) { // padding past the sequence: sees nothing
          lo[r] = q + 1;
          shared[r] = 0;
          continue;
        }
        int i = b * t + q;
        lo[r] = keys.lo()[i];
        shared[r] = Math.min(keys.shared()[i], lo[r]);
        if (shared[r] == 0 && lo[r] > q) continue;
        keyFrom = Math.min(keyFrom, shared[r] > 0 ? 0 : lo[r]);
        keyTo = Math.max(keyTo, q + 1);
      }
      return keyTo > 0;
    }

    /** s[r·BK + j] ← −∞ where query r does not see key k0 + j. */
    void mask(float[] s, int k0) {
      if (k0 >= allFrom && k0 + BK - 1 <= allTo) return; // every query sees the whole tile
      for (int r = 0; r < BQ; r++) {
        int o = r * BK, sh = shared[r], l = lo[r], q = pos[r];
        if ((k0 >= l && k0 + BK - 1 <= q) || k0 + BK <= sh) continue; // sees the whole tile
        // hidden: keys k ≥ sh with k < l or k > q, two runs of the tile
        int from = Math.max(sh, k0) - k0, to = Math.min(l, k0 + BK) - k0;
        if (from < to) java.util.Arrays.fill(s, o + from, o + to, Float.NEGATIVE_INFINITY);
        from = Math.max(Math.max(sh, q + 1), k0) - k0;
        if (from < BK) java.util.Arrays.fill(s, o + from, o + BK, Float.NEGATIVE_INFINITY);
      }
    }
  }

  /** Per-thread [Tp, Dp] arrays reused across calls (allocated per call they grew the heap). */
  private static final ThreadLocal<float[][]> SCRATCH = new ThreadLocal<>();

  /**
   * Three arrays of at least {@code size} floats for this thread, then one of twice that (contents
   * undefined).
   */
  private static float[][] scratch(int size) {
    float[][] s = SCRATCH.get();
    if (s == null || s[0].length < size) {
      s = new float[][] {new float[size], new float[size], new float[size], new float[2 * size]};
      SCRATCH.set(s);
    }
    return s;
  }

  /** The backward's per-part dK and dV, kept by the calling thread across calls. */
  private static final ThreadLocal<float[]> PARTIALS = new ThreadLocal<>();

  private static float[] partials(int size) {
    float[] p = PARTIALS.get();
    if (p == null || p.length < size) {
      p = new float[size];
      PARTIALS.set(p);
    }
    return p;
  }

  /**
   * Copies one head's T rows of D (at {@code off}, {@link Dims#stride()} apart) into dst [Tp, Dp],
   * row-major; the padding is zeroed.
   */
  private static void loadRows(FloatBuffer src, int off, Dims dm, float[] dst) {
    int d = dm.d(), dp = dm.dp(), t = dm.t(), stride = dm.stride();
    if (d == dp && stride == d) src.get(off, dst, 0, t * d);
    else {
      for (int k = 0; k < t; k++) {
        src.get(off + k * stride, dst, k * dp, d);
        java.util.Arrays.fill(dst, k * dp + d, (k + 1) * dp, 0f);
      }
    }
    java.util.Arrays.fill(dst, t * dp, dm.tp() * dp, 0f);
  }

  /**
   * Copies one head's T rows of D (at {@code off}, {@link Dims#stride()} apart) into dst transposed
   * per key tile: tile k0 / BK is the [Dp, BK] block at k0·Dp, dst[k0·Dp + c·BK + j] = row k0 + j,
   * column c (padding zeroed). A tile product then reads it with stride BK: one whole transposed
   * tile is 16 KB and contiguous, where a [Dp, Tp] transpose put its rows Tp floats (4 KB at T1024)
   * apart, on the same few cache sets.
   */
  private static void loadTiles(FloatBuffer src, int off, Dims dm, float[] dst, float[] rows) {
    int d = dm.d(), dp = dm.dp(), t = dm.t(), stride = dm.stride();
    for (int k0 = 0; k0 < dm.tp(); k0 += BK) {
      int n = Math.min(BK, t - k0), at = k0 * dp;
      if (stride == d) src.get(off + k0 * d, rows, 0, n * d);
      else for (int j = 0; j < n; j++) src.get(off + (k0 + j) * stride, rows, j * d, d);
      for (int j = 0; j < n; j++) {
        for (int c = 0; c < d; c++) dst[at + c * BK + j] = rows[j * d + c];
      }
      if (n < BK)
        for (int c = 0; c < d; c++)
          java.util.Arrays.fill(dst, at + c * BK + n, at + (c + 1) * BK, 0f);
      java.util.Arrays.fill(dst, at + d * BK, at + dp * BK, 0f);
    }
  }

  /** The query tile at q0, scaled: dst[r·Dp + c] = scale·q (rows past T stay 0). */
  private static void loadQueries(
      FloatBuffer heads, int off, Dims dm, int q0, float scale, float[] dst) {
    int d = dm.d(), dp = dm.dp();
    java.util.Arrays.fill(dst, 0f);
    for (int r = 0; r < BQ && q0 + r < dm.t(); r++) {
      heads.get(off + (q0 + r) * dm.stride(), dst, r * dp, d);
      for (int c = 0; c < d; c++) dst[r * dp + c] *= scale;
    }
  }

  /**
   * y = softmax(scale·q·kᵀ over each query's keys)·v into y (token-major), lse[(b·H + h)·T + q] =
   * the logsumexp of each query's scaled scores (+∞ for a query that sees nothing; its y is 0).
   */
  static void forward(
      FloatBuffer heads, FloatBuffer y, float[] lse, KeyRanges keys, Dims dm, float scale) {
    int t = dm.t(), tp = dm.tp(), dp = dm.dp(), d = dm.d(), g = dm.group();
    int[] first = queryParts(dm, dm.nH()); // queries are independent: any split, same results
    int split = first.length - 1;
    long cost = (long) t * t * dp * 2 / split; // ≈ ns per unit, tiles skipped included
    Parallel.range(
        dm.rows() * dm.nH() * split,
        cost / 8,
        (from, to) -> {
          float[][] big = scratch(dp * tp);
          float[] kT = big[0], v = big[1];
          float[] q = new float[BQ * dp], s = new float[BQ * BK], o = new float[BQ * dp];
          float[] rows = new float[BK * d];
          float[] max = new float[BQ], parts = new float[BQ * Simd.PARTS], out = new float[d];
          TileKeys tk = new TileKeys();
          int loadedKv = -1;
          for (int unit = from; unit < to; unit++) {
            int bh = unit / split, part = unit % split;
            int b = bh / dm.nH(), h = bh % dm.nH(), kv = b * dm.nKv() + h / g;
            if (kv != loadedKv) {
              loadTiles(heads, dm.kOffset(b, h / g), dm, kT, rows);
              loadRows(heads, dm.vOffset(b, h / g), dm, v);
              loadedKv = kv;
            }
            for (int q0 = first[part] * BQ; q0 < Math.min(t, first[part + 1] * BQ); q0 += BQ) {
              int lseAt = (b * dm.nH() + h) * t + q0;
              if (!tk.of(keys, b, q0, t)) {
                for (int r = 0; r < BQ && q0 + r < t; r++) {
                  lse[lseAt + r] = Float.POSITIVE_INFINITY;
                  y.put(dm.tokenOffset(b, q0 + r, h), new float[d]);
                }
                continue;
              }
              loadQueries(heads, dm.qOffset(b, h), dm, q0, scale, q);
              java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
              java.util.Arrays.fill(parts, 0f);
              java.util.Arrays.fill(o, 0f);
              for (int k0 = tk.keyFrom / BK * BK; k0 < tk.keyTo; k0 += BK) {
                Simd.mm(q, 0, dp, 1, kT, k0 * dp, BK, s, 0, BK, BQ, BK, dp, false);
                tk.mask(s, k0);
                for (int r = 0; r < BQ; r++) onlineSoftmaxRow(s, r, max, parts, o, dp);
                Simd.mm(s, 0, BK, 1, v, k0 * dp, dp, o, 0, dp, BQ, dp, BK, true);
              }
              for (int r = 0; r < BQ && q0 + r < t; r++) {
                float sum = Simd.combineParts(parts, r * Simd.PARTS);
                boolean none = sum == 0f;
                float inv = none ? 0f : 1f / sum;
                for (int c = 0; c < d; c++) out[c] = o[r * dp + c] * inv;
                y.put(dm.tokenOffset(b, q0 + r, h), out);
                lse[lseAt + r] = none ? Float.POSITIVE_INFINITY : max[r] + (float) Math.log(sum);
              }
            }
          }
        });
  }

  /**
   * One query's step of the online softmax over a key tile: new max, rescale of its running sum (as
   * {@link Simd#PARTS} partial sums) and output by e^(old max − new max), and s ← e^(s − new max)
   * (the tile's unnormalized probabilities, 0 on masked keys) added to the partial sums.
   */
  private static void onlineSoftmaxRow(
      float[] s, int r, float[] max, float[] parts, float[] o, int dp) {
    int at = r * BK;
    float m = Simd.max(s, at, BK, max[r]);
    if (m == Float.NEGATIVE_INFINITY) { // no key of this tile (nor before) is visible
      java.util.Arrays.fill(s, at, at + BK, 0f);
      return;
    }
    // 0 when this is the first visible tile; exactly 1 (= e^0) when the max did not move
    float corr = m == max[r] ? 1f : Simd.expFlushed(max[r] - m);
    Simd.expAccumulate(s, at, BK, m, parts, r * Simd.PARTS, corr);
    max[r] = m;
    if (corr != 1f) Simd.scale(o, r * dp, dp, corr);
  }

  /**
   * Work units each pass aims for at least: (row, head) pairs split further by query tiles when
   * there are fewer (one KV head at batch 1 would otherwise run the backward on one core). Fixed,
   * not the core count, so the gradients' summation order never depends on the machine.
   */
  static final int MIN_UNITS = 16;

  /**
   * How a pass with {@code heads} (row, head) pairs per row splits each pair's query tiles into
   * parts of about equal causal work (tile i visits about i + 1 key tiles): part p holds tiles
   * [first[p], first[p + 1]).
   */
  static int[] queryParts(Dims dm, int heads) {
    int tiles = (dm.t() + BQ - 1) / BQ;
    int parts = Math.min(tiles, Math.max(1, ceilDiv(MIN_UNITS, dm.rows() * heads)));
    int[] first = new int[parts + 1];
    long total = (long) tiles * (tiles + 1) / 2;
    for (int p = 1; p < parts; p++) {
      // the boundary whose work before it (b tiles: b(b + 1)/2) is nearest p shares, leaving each
      // part at least one tile
      int b = first[p - 1] + 1, last = tiles - (parts - p);
      while (b < last && gap(b + 1, p, parts, total) <= gap(b, p, parts, total)) b++;
      first[p] = b;
    }
    first[parts] = tiles;
    return first;
  }

  /** |work of the first b tiles · parts − p · total|: how far boundary b is from p shares. */
  private static long gap(int b, int p, int parts, long total) {
    return Math.abs((long) b * (b + 1) / 2 * parts - total * p);
  }

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /**
   * The gradients of q, k and v (into dheads in q|k|v's layout, overwritten) from dy, the forward's
   * y and lse. Work units are (row, key/value head, part of the query tiles) with its G query
   * heads: a unit writes dQ for its tiles and sums dK and dV over them in a fixed order; with more
   * than one part, each part's dK and dV go to a buffer of their own, added part by part
   * afterwards.
   */
  static void backward(
      FloatBuffer heads,
      FloatBuffer y,
      float[] lse,
      FloatBuffer dy,
      FloatBuffer dheads,
      KeyRanges keys,
      Dims dm,
      float scale) {
    int t = dm.t(), tp = dm.tp(), dp = dm.dp(), d = dm.d(), g = dm.group(), stride = dm.stride();
    int[] first = queryParts(dm, dm.nKv());
    int parts = first.length - 1, units = dm.rows() * dm.nKv() * parts;
    // one part: dK and dV summed in the thread's scratch and written out by the unit itself
    float[] partial = parts == 1 ? null : partials(units * 2 * tp * dp);
    long cost = (long) g * t * t * dp * 5 / parts;
    Parallel.range(
        units,
        cost / 8,
        (from, to) -> {
          float[][] big = scratch(dp * tp);
          float[] kT = big[0], kr = big[1], vT = big[2];
          float[] q = new float[BQ * dp], dO = new float[BQ * dp], dq = new float[BQ * dp];
          float[] p = new float[BQ * BK], ds = new float[BQ * BK], delta = new float[BQ];
          float[] rowY = new float[d], out = new float[d], rows = new float[BK * d];
          TileKeys tk = new TileKeys();
          int loadedBkv = -1;
          for (int unit = from; unit < to; unit++) {
            int bkv = unit / parts, part = unit % parts;
            int b = bkv / dm.nKv(), kv = bkv % dm.nKv();
            // dK then dV, [Tp, Dp] each: the thread's scratch, or the unit's part of partial
            float[] dkv = partial == null ? big[3] : partial;
            int dkAt = partial == null ? 0 : unit * 2 * tp * dp, dvAt = dkAt + tp * dp;
            if (bkv != loadedBkv) { // the next part of the same head reuses them
              loadTiles(heads, dm.kOffset(b, kv), dm, kT, rows);
              loadRows(heads, dm.kOffset(b, kv), dm, kr);
              loadTiles(heads, dm.vOffset(b, kv), dm, vT, rows);
              loadedBkv = bkv;
            }
            java.util.Arrays.fill(dkv, dkAt, dkAt + 2 * dp * tp, 0f);
            for (int h = kv * g; h < (kv + 1) * g; h++) {
              for (int q0 = first[part] * BQ; q0 < Math.min(t, first[part + 1] * BQ); q0 += BQ) {
                int lseAt = (b * dm.nH() + h) * t + q0;
                boolean any = tk.of(keys, b, q0, t);
                java.util.Arrays.fill(dq, 0f);
                if (any) {
                  loadQueries(heads, dm.qOffset(b, h), dm, q0, scale, q);
                  java.util.Arrays.fill(dO, 0f);
                  for (int r = 0; r < BQ && q0 + r < t; r++) {
                    int at = dm.tokenOffset(b, q0 + r, h);
                    dy.get(at, dO, r * dp, d);
                    y.get(at, rowY, 0, d);
                    delta[r] = Simd.dot(dO, r * dp, rowY, 0, d); // Σ_k P·dP = dO·y
                  }
                  for (int k0 = tk.keyFrom / BK * BK; k0 < tk.keyTo; k0 += BK) {
                    Simd.mm(q, 0, dp, 1, kT, k0 * dp, BK, p, 0, BK, BQ, BK, dp, false);
                    tk.mask(p, k0);
                    for (int r = 0; r < BQ; r++) {
                      float l = q0 + r < t ? lse[lseAt + r] : Float.POSITIVE_INFINITY;
                      Simd.expMinus(p, r * BK, BK, l);
                    }
                    // dV += Pᵀ·dO; dP = dO·Vᵀ; dS = P ⊙ (dP − delta); dQ += dS·K; dK +=
                    // dSᵀ·(scale·Q).
                    Simd.mm(p, 0, 1, BK, dO, 0, dp, dkv, dvAt + k0 * dp, dp, BK, dp, BQ, true);
                    Simd.mm(dO, 0, dp, 1, vT, k0 * dp, BK, ds, 0, BK, BQ, BK, dp, false);
                    for (int r = 0; r < BQ; r++) {
                      Simd.softmaxGrad(p, ds, r * BK, BK, r + q0 < t ? delta[r] : 0f);
                    }
                    Simd.mm(ds, 0, BK, 1, kr, k0 * dp, dp, dq, 0, dp, BQ, dp, BK, true);
                    Simd.mm(ds, 0, 1, BK, q, 0, dp, dkv, dkAt + k0 * dp, dp, BK, dp, BQ, true);
                  }
                }
                int qAt = dm.qOffset(b, h) + q0 * stride;
                for (int r = 0; r < BQ && q0 + r < t; r++) {
                  for (int c = 0; c < d; c++) out[c] = dq[r * dp + c] * scale;
                  dheads.put(qAt + r * stride, out);
                }
              }
            }
            if (partial == null) writeKeyGradients(dheads, dm, b, kv, dkv);
          }
        });
    if (partial != null) sumParts(partial, parts, dheads, dm);
  }

  /** dK and dV of (row b, key/value head kv), [Tp, Dp] rows at dk[0] and dk[Tp·Dp], into dheads. */
  private static void writeKeyGradients(FloatBuffer dheads, Dims dm, int b, int kv, float[] dkv) {
    int kAt = dm.kOffset(b, kv), vAt = dm.vOffset(b, kv), stride = dm.stride(), dp = dm.dp();
    int vFrom = dm.tp() * dp;
    for (int k = 0; k < dm.t(); k++) {
      dheads.put(kAt + k * stride, dkv, k * dp, dm.d());
      dheads.put(vAt + k * stride, dkv, vFrom + k * dp, dm.d());
    }
  }

  /** Each (row, key/value head)'s dK and dV: its parts' sums added in part order, into dheads. */
  private static void sumParts(float[] partial, int parts, FloatBuffer dheads, Dims dm) {
    int span = 2 * dm.tp() * dm.dp();
    Parallel.range(
        dm.rows() * dm.nKv(),
        (long) parts * span,
        (from, to) -> {
          float[] sum = new float[span];
          for (int bkv = from; bkv < to; bkv++) {
            int at = bkv * parts * span;
            System.arraycopy(partial, at, sum, 0, span);
            for (int part = 1; part < parts; part++) {
              int o = at + part * span;
              for (int i = 0; i < span; i++) sum[i] += partial[o + i];
            }
            writeKeyGradients(dheads, dm, bkv / dm.nKv(), bkv % dm.nKv(), sum);
          }
        });
  }
}
