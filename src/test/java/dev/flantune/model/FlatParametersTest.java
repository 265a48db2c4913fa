package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.cpu.OptimizerKernels;
import dev.flantune.model.cpu.OptimizerReference;
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
      var b = OptimizerReference.direct(x);
      assertEquals(
          want, OptimizerKernels.sumOfSquares(b, 0, m), 1e-14 * Math.max(1, want), "m=" + m);
      assertEquals(
          OptimizerReference.sumOfSquares(x, m), OptimizerKernels.sumOfSquares(b, 0, m), 0.0);
    }
  }

  /**
   * The norm is bit for bit the one before the Vector API: blocks of 16,384 floats, each summed as
   * eight interleaved fp64 partial sums, the blocks added in order; whole and partial last blocks.
   */
  @Test
  void norm2IsTheBlockedEightPartialSumsBitForBit() {
    java.util.SplittableRandom r = new java.util.SplittableRandom(11);
    for (int n :
        new int[] {1, 13, FlatParameters.NORM_BLOCK, 2 * FlatParameters.NORM_BLOCK + 5, 70_001}) {
      Map<String, long[]> shapes = new LinkedHashMap<>();
      shapes.put("w", new long[] {n});
      FlatParameters p = FlatParameters.zeros(shapes, (name, shape) -> true);
      float[] x = new float[n];
      for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * Math.exp(r.nextInt(7)));
      p.flat().assign(org.nd4j.linalg.factory.Nd4j.createFromArray(x));
      double total = 0;
      for (int start = 0; start < n; start += FlatParameters.NORM_BLOCK) {
        int m = Math.min(FlatParameters.NORM_BLOCK, n - start);
        total +=
            OptimizerReference.sumOfSquares(java.util.Arrays.copyOfRange(x, start, start + m), m);
      }
      assertEquals(Math.sqrt(total), p.norm2(), 0.0, "n=" + n);
    }
  }
}
