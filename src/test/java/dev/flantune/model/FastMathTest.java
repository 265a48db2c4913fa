package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The kernels' exp and tanh against the JDK's, on dense grids covering their whole fp32 range. */
class FastMathTest {
  @Test
  void expIsWithinFp32RoundingOfTheJdk() {
    double worst = 0;
    for (float x = -103f; x <= 88f; x += 3.7e-4f) {
      double want = Math.exp(x);
      if (want < Float.MIN_NORMAL) continue; // subnormal results: absolute error below 1e-38
      worst = Math.max(worst, Math.abs(FastMath.exp(x) - want) / want);
    }
    assertTrue(worst <= 1.2e-7, "max relative error " + worst);
    assertEquals(0f, FastMath.exp(-200f));
    assertEquals(1f, FastMath.exp(0f));
    assertEquals(Float.NaN, FastMath.exp(Float.NaN));
  }

  @Test
  void tanhIsWithinHalfAMillionthOfTheJdk() {
    double worst = 0;
    for (float x = -12f; x <= 12f; x += 1.3e-5f) {
      worst = Math.max(worst, Math.abs(FastMath.tanh(x) - Math.tanh(x)));
    }
    assertTrue(worst <= 5e-7, "max absolute error " + worst);
    assertEquals(1f, FastMath.tanh(50f));
    assertEquals(-1f, FastMath.tanh(-50f));
    assertEquals(0f, FastMath.tanh(0f));
  }
}
