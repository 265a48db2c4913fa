package dev.flantune.model.cpu;

/**
 * The CPU engine's SIMD kernels: exp over float arrays and a register-blocked matrix product for
 * attention's tiles. With the JDK's Vector API (module jdk.incubator.vector, which the launcher and
 * the tests add) they run on vector registers ({@link SimdVector}); without it, scalar loops here
 * compute the same values bit for bit (every output element sees the same fused multiply-adds in
 * the same order), so results never depend on which path or vector width ran.
 */
final class Simd {
  private Simd() {}

  /** Whether the Vector API is present (and not turned off with -Dflantune.simd=scalar). */
  static final boolean VECTOR = vectorApi();

  /** Floats per vector register (16 with AVX-512, 8 with AVX2); 8 on the scalar path. */
  static final int LANES = VECTOR ? SimdVector.lanes() : 8;

  private static boolean vectorApi() {
    if ("scalar".equals(System.getProperty("flantune.simd"))) return false;
    return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
        && SimdVector.lanes() >= 4;
  }

  // exp: x = k·ln2 + r (Cody-Waite split of ln2), e^r ≈ 1 + r + r²·P(r) with P of degree 5
  // (the Cephes expf coefficients, relative error below 1 ulp on |r| ≤ ln2/2), times 2^k. 2^k is
  // applied as two factors 2^(k>>1)·2^(k−(k>>1)), both normal floats for every k in range, so the
  // result rounds once and underflows gradually into subnormals exactly like Math.exp.
  static final float LOG2E = 1.44269504088896341f;
  static final float ROUND = 12582912f; // 1.5·2^23: x + ROUND rounds x to an integer (|x| < 2^22)
  static final int ROUND_BITS = 0x4b400000; // its bits: (x + ROUND)'s bits − ROUND_BITS = round(x)
  static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f;
  static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f;
  static final float P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

  /** Below this e^x rounds to 0 in fp32; above {@link #EXP_MAX} to +∞. */
  static final float EXP_MIN = -104f, EXP_MAX = 89f;

  /** e^x in fp32 (NaN → NaN, −∞ → 0, +∞ → +∞), a few ulp from {@link Math#exp} rounded to fp32. */
  static float exp(float x) {
    float v = Math.min(Math.max(x, EXP_MIN), EXP_MAX); // NaN stays NaN
    float t = Math.fma(v, LOG2E, ROUND);
    float p = expReduced(v, t);
    int ki = Float.floatToRawIntBits(t) - ROUND_BITS;
    int k1 = ki >> 1, k2 = ki - k1;
    return p * Float.intBitsToFloat((k1 + 127) << 23) * Float.intBitsToFloat((k2 + 127) << 23);
  }

  /** e^r for v = k·ln2 + r, where t = v·log2(e) + {@link #ROUND} carries k in its low bits. */
  private static float expReduced(float v, float t) {
    float k = t - ROUND;
    float r = Math.fma(k, -LN2_HI, v);
    r = Math.fma(k, -LN2_LO, r);
    float p = Math.fma(P0, r, P1);
    p = Math.fma(p, r, P2);
    p = Math.fma(p, r, P3);
    p = Math.fma(p, r, P4);
    p = Math.fma(p, r, P5);
    return Math.fma(p, r * r, r) + 1f;
  }

  /**
   * Below this the softmax kernels' e^x is 0 ({@link #expFlushed}): e^−87 is just above the
   * smallest normal float.
   */
  static final float EXP_FLUSH = -87f;

  /**
   * e^x as {@link #exp} for x from {@link #EXP_FLUSH} to 88.3 (the same bits), but exactly 0 below
   * that and +∞ from 88.38 on (instead of 88.72), for the softmax kernels, whose x is a score minus
   * its row's max or logsumexp, so ≤ 0. A softmax's sum is at least 1, its max's e^0, so the
   * flushed terms never change it; and a result that is subnormal or underflows costs the CPU a
   * microcode assist per element (masked keys at −∞ made a diagonal tile's exps 3× slower). With no
   * subnormal result, 2^k is one normal factor instead of {@link #exp}'s two: 19 vector operations
   * instead of 25 (a 64×64 tile's exps 1.2 µs instead of 2.0 alone; in the attention's passes the
   * difference did not show).
   */
  static float expFlushed(float x) {
    if (x < EXP_FLUSH) return 0f; // NaN goes on, and stays NaN
    float v = Math.min(x, EXP_MAX);
    float t = Math.fma(v, LOG2E, ROUND);
    int k = Float.floatToRawIntBits(t) - ROUND_BITS;
    return expReduced(v, t) * Float.intBitsToFloat((k + 127) << 23);
  }

  /** x[off, off + n) ← e^x, in place. */
  static void exp(float[] x, int off, int n) {
    expShifted(x, off, n, 0f);
  }

  /**
   * x[off, off + n) ← e^(x − shift), in place; returns their sum (eight partial sums in a fixed
   * order, so the same on every path).
   */
  static float expShifted(float[] x, int off, int n, float shift) {
    int i = 0;
    if (VECTOR) i = SimdVector.expShifted(x, off, n, shift);
    for (; i < n; i++) x[off + i] = exp(x[off + i] - shift);
    return sum(x, off, n);
  }

  /** x[off, off + n) ← e^(x − shift) ({@link #expFlushed}), in place, without the sum. */
  static void expMinus(float[] x, int off, int n, float shift) {
    int i = 0;
    if (VECTOR) i = SimdVector.expMinusFlushed(x, off, n, shift);
    for (; i < n; i++) x[off + i] = expFlushed(x[off + i] - shift);
  }

  /** How many interleaved partial sums {@link #expAccumulate} keeps per row. */
  static final int PARTS = 16;

  /**
   * x[off, off + n) ← e^(x − shift) ({@link #expFlushed}; n a multiple of {@link #PARTS}), with
   * running partial sums: parts[pOff + j] ← parts[pOff + j]·corr, then + each new x[off + i] with i
   * % PARTS = j in increasing i. Sixteen partial sums are one AVX-512 vector or two AVX2 vectors,
   * added in the same order either way, so the sum never needs a horizontal add per row.
   */
  static void expAccumulate(
      float[] x, int off, int n, float shift, float[] parts, int pOff, float corr) {
    if (n % PARTS != 0) throw new IllegalArgumentException("n = " + n);
    if (VECTOR && LANES <= PARTS) {
      SimdVector.expAccumulate(x, off, n, shift, parts, pOff, corr);
      return;
    }
    for (int j = 0; j < PARTS; j++) parts[pOff + j] *= corr;
    for (int i = 0; i < n; i++) {
      float e = expFlushed(x[off + i] - shift);
      x[off + i] = e;
      parts[pOff + i % PARTS] += e;
    }
  }

  /** The sum of {@link #PARTS} partial sums, combined pairwise in a fixed order. */
  static float combineParts(float[] parts, int pOff) {
    float[] p = parts;
    int o = pOff;
    float a =
        ((p[o] + p[o + 1]) + (p[o + 2] + p[o + 3]))
            + ((p[o + 4] + p[o + 5]) + (p[o + 6] + p[o + 7]));
    float b =
        ((p[o + 8] + p[o + 9]) + (p[o + 10] + p[o + 11]))
            + ((p[o + 12] + p[o + 13]) + (p[o + 14] + p[o + 15]));
    return a + b;
  }

  /** max(init, x[off, off + n)) (the order does not matter to a max). */
  static float max(float[] x, int off, int n, float init) {
    int i = 0;
    float m = init;
    if (VECTOR && n >= LANES) {
      m = SimdVector.max(x, off, n, init);
      i = n / LANES * LANES;
    }
    for (; i < n; i++) m = Math.max(m, x[off + i]);
    return m;
  }

  /** x[off, off + n) ← c·x. */
  static void scale(float[] x, int off, int n, float c) {
    int i = 0;
    if (VECTOR) i = SimdVector.scale(x, off, n, c);
    for (; i < n; i++) x[off + i] *= c;
  }

  /** The softmax's gradient on one row: ds[off + i] ← p[off + i]·(ds[off + i] − delta). */
  static void softmaxGrad(float[] p, float[] ds, int off, int n, float delta) {
    int i = 0;
    if (VECTOR) i = SimdVector.softmaxGrad(p, ds, off, n, delta);
    for (; i < n; i++) ds[off + i] = p[off + i] * (ds[off + i] - delta);
  }

  /**
   * Σ a[aOff + i]·b[bOff + i] over i < n as {@link #PARTS} interleaved partial sums of fused
   * multiply-adds (element i into sum i % PARTS, in increasing i), combined as {@link
   * #combineParts}: one vector of them with AVX-512, two with AVX2 (one dependent chain of n adds
   * was latency-bound, and eight sums left AVX-512 machines on the scalar path).
   */
  static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
    float[] s = new float[PARTS];
    int i = 0;
    if (VECTOR && LANES <= PARTS) i = SimdVector.dotParts(a, aOff, b, bOff, n, s);
    for (; i < n; i++) s[i % PARTS] = Math.fma(a[aOff + i], b[bOff + i], s[i % PARTS]);
    return combineParts(s, 0);
  }

  /** Σ x[off, off + n) as eight interleaved partial sums, combined pairwise. */
  static float sum(float[] x, int off, int n) {
    // The vector path only where a whole vector is exactly the eight sums (AVX2). Not a 256-bit
    // species beside the preferred 512-bit one: a second FloatVector shape pollutes the JDK's
    // shared
    // Vector API call sites, and every 512-bit kernel compiled after it (the decoder's) fell back
    // to
    // boxed vectors, 5x slower.
    if (VECTOR && n >= 8 && LANES == 8) return SimdVector.sum(x, off, n);
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      int o = off + i;
      s0 += x[o];
      s1 += x[o + 1];
      s2 += x[o + 2];
      s3 += x[o + 3];
      s4 += x[o + 4];
      s5 += x[o + 5];
      s6 += x[o + 6];
      s7 += x[o + 7];
    }
    for (; i < n; i++) s0 += x[off + i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /**
   * c (+)= a·b for an m×n block: c[cOff + i·cs + j] (+)= Σ_k a(i, k)·b[bOff + k·bs + j], with a(i,
   * k) = a[aOff + i·ars + k·acs], a row-major (acs = 1) or read transposed (ars = 1). m must be a
   * multiple of 4 and n of 2·{@link #LANES}; each element's sum runs over k in order from 0, one
   * fused multiply-add at a time, and is then added to c (acc) or stored.
   */
  static void mm(
      float[] a,
      int aOff,
      int ars,
      int acs,
      float[] b,
      int bOff,
      int bs,
      float[] c,
      int cOff,
      int cs,
      int m,
      int n,
      int kk,
      boolean acc) {
    if (m % 4 != 0 || n % (2 * LANES) != 0) throw new IllegalArgumentException(m + "×" + n);
    if (acs != 1 && ars != 1) throw new IllegalArgumentException("a neither row- nor column-major");
    if (!VECTOR) mmScalar(a, aOff, ars, acs, b, bOff, bs, c, cOff, cs, m, n, kk, acc);
    else if (acs == 1) SimdVector.mmRows(a, aOff, ars, b, bOff, bs, c, cOff, cs, m, n, kk, acc);
    else SimdVector.mmCols(a, aOff, acs, b, bOff, bs, c, cOff, cs, m, n, kk, acc);
  }

  /** {@link #mm} without the Vector API. */
  static void mmScalar(
      float[] a,
      int aOff,
      int ars,
      int acs,
      float[] b,
      int bOff,
      int bs,
      float[] c,
      int cOff,
      int cs,
      int m,
      int n,
      int kk,
      boolean acc) {
    // Row by row as s += a_ik·b_k (the JIT vectorizes the inner loop); per element the same
    // fused multiply-adds in the same order as the vector path, then c added.
    float[] s = new float[n];
    for (int i = 0; i < m; i++) {
      int ci = cOff + i * cs;
      java.util.Arrays.fill(s, 0f);
      for (int k = 0; k < kk; k++) {
        float x = a[aOff + i * ars + k * acs];
        int bk = bOff + k * bs;
        for (int j = 0; j < n; j++) s[j] = Math.fma(x, b[bk + j], s[j]);
      }
      if (acc) for (int j = 0; j < n; j++) c[ci + j] += s[j];
      else System.arraycopy(s, 0, c, ci, n);
    }
  }

  /** n rounded up to a multiple of m. */
  static int roundUp(int n, int m) {
    return (n + m - 1) / m * m;
  }
}
