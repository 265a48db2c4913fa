package dev.flantune.model;

/**
 * exp and tanh for fp32 kernels, several times faster than {@link Math#exp} / {@link Math#tanh}
 * (measured here: 3.8 vs 6–14 ns and 4.4 vs 44 ns per call) and accurate to fp32 rounding: relative
 * error ≤ 1e-7 for exp, absolute error ≤ 5e-7 for tanh (FastMathTest checks both against the JDK on
 * dense grids).
 */
public final class FastMath {
  private FastMath() {}

  private static final double LOG2E = 1.4426950408889634, LN2 = 0.6931471805599453;

  /**
   * e^x for x ≤ 88: x = k·ln2 + r with |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial (error
   * below 6e-9), 2^k put into the exponent bits. Underflows to 0 below −104.
   */
  public static float exp(float x) {
    if (x < -104f) return 0f;
    double k = Math.floor(x * LOG2E + 0.5);
    double r = x - k * LN2;
    double p =
        1
            + r
                * (1
                    + r
                        * (0.5
                            + r
                                * (1.0 / 6
                                    + r
                                        * (1.0 / 24
                                            + r
                                                * (1.0 / 120
                                                    + r * (1.0 / 720 + r * (1.0 / 5040)))))));
    return (float) (p * Double.longBitsToDouble(((long) k + 1023L) << 52));
  }

  /** Where tanh rounds to ±1 in fp32 (vector kernels clamp at the same point). */
  public static final float TANH_CLAMP = 7.90531110763549805f;

  /**
   * tanh as the odd/even rational minimax approximation Eigen uses for fp32 (numerator degree 13,
   * denominator degree 6), clamped where tanh rounds to ±1 in fp32.
   */
  public static float tanh(float v) {
    float x = Math.max(-TANH_CLAMP, Math.min(TANH_CLAMP, v));
    float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * x;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
  }
}
