package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The flat layout: decayed tensors first, views share the buffer, checkpoint order kept. */
class FlatParametersTest {
  @Test
  void viewsShareOneBufferWithTheDecayedTensorsFirst() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("b0", new long[] {3});
    shapes.put("w0", new long[] {2, 3});
    shapes.put("b1", new long[] {2});
    shapes.put("w1", new long[] {3, 2});
    FlatParameters p = FlatParameters.zeros(shapes, (name, shape) -> shape.length >= 2);
    assertEquals(List.of("b0", "w0", "b1", "w1"), List.copyOf(p.views().keySet()));
    assertEquals(12, p.decayedLength());
    assertEquals(17, p.flat().length());
    p.views().get("w1").putScalar(new long[] {2, 1}, 7f); // last element of the decayed prefix
    assertEquals(7f, p.flat().getFloat(11));
    p.flat().putScalar(12, 5f); // first element after the prefix: b0[0]
    assertEquals(5f, p.views().get("b0").getFloat(0));

    FlatParameters z = p.zerosLike();
    INDArray w1 = z.views().get("w1");
    w1.putScalar(new long[] {2, 1}, 3f);
    assertEquals(3f, z.flat().getFloat(11));
    assertEquals(0f, p.flat().getFloat(12) - 5f);
    assertEquals(12, z.decayedLength());
  }

  @Test
  void norm2IsExactOverSeveralBlocks() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("w", new long[] {300, 200}); // 60,000 elements: four 16k blocks
    shapes.put("b", new long[] {7});
    FlatParameters p = FlatParameters.zeros(shapes, (name, shape) -> shape.length >= 2);
    java.util.SplittableRandom r = new java.util.SplittableRandom(9);
    double sq = 0;
    for (long i = 0; i < p.flat().length(); i++) {
      float v = (float) r.nextGaussian();
      p.flat().putScalar(i, v);
      sq += (double) v * v;
    }
    double want = Math.sqrt(sq);
    assertEquals(want, p.norm2(), 1e-12 * want); // fp64 sums: exact to rounding
    assertEquals(p.flat().norm2Number().doubleValue(), p.norm2(), 1e-5 * want); // ND4J: fp32 sums
    assertTrue(want > 200, "the data is not trivially small");
  }

  @Test
  void sumOfSquaresCoversEveryLengthAndTail() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(3);
    for (int m = 0; m <= 40; m++) {
      float[] x = new float[m + 5];
      for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
      double want = 0;
      for (int i = 0; i < m; i++) want += (double) x[i] * x[i];
      assertEquals(want, FlatParameters.sumOfSquares(x, m), 1e-14 * Math.max(1, want), "m=" + m);
    }
  }
}
