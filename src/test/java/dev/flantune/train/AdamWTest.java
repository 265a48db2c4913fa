package dev.flantune.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.model.FlatParameters;
import dev.flantune.model.cpu.OptimizerKernels;
import dev.flantune.model.cpu.OptimizerReference;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fused single-pass AdamW (CPU) and the native-op one (other backends) take the same steps,
 * weight decay on the decayed prefix only, and both leave the clipped (scaled) gradients behind.
 * Both are checked against PyTorch in ParityTest through the default; this ties the other to it.
 */
class AdamWTest {
  @Test
  void fusedAndNativeOpUpdatesAgree() {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("w", new long[] {7, 13});
    shapes.put("b", new long[] {13});
    AdamW.Settings settings = new AdamW.Settings(0.9, 0.95, 1e-8, 0.1);
    FlatParameters pa = FlatParameters.zeros(shapes, (n, s) -> s.length >= 2);
    FlatParameters pb = FlatParameters.zeros(shapes, (n, s) -> s.length >= 2);
    FlatParameters grads = pa.zerosLike();
    SplittableRandom r = new SplittableRandom(3);
    long n = pa.flat().length();
    for (long i = 0; i < n; i++) {
      float w = (float) r.nextGaussian();
      pa.flat().putScalar(i, w);
      pb.flat().putScalar(i, w);
    }
    AdamW fused = new AdamW(settings, pa, true), ops = new AdamW(settings, pb, false);
    FlatParameters gradsB = grads.zerosLike();
    for (int step = 0; step < 4; step++) {
      for (long i = 0; i < n; i++) {
        float gv = (float) r.nextGaussian() * 0.1f;
        grads.flat().putScalar(i, gv);
        gradsB.flat().putScalar(i, gv);
      }
      double scale = step % 2 == 0 ? 1.0 : 0.37; // clipping on odd steps
      fused.update(grads, 1e-2, scale);
      ops.update(gradsB, 1e-2, scale);
      float[] ga = grads.flat().dup().data().asFloat(), gb = gradsB.flat().dup().data().asFloat();
      for (int i = 0; i < ga.length; i++)
        assertEquals(gb[i], ga[i], 1e-7, "clipped gradient " + i + " written back");
    }
    float[] a = pa.flat().dup().data().asFloat(), b = pb.flat().dup().data().asFloat();
    for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-6, "parameter " + i);
    float[] ma = fused.secondMoments().get("b").dup().data().asFloat();
    float[] mb = ops.secondMoments().get("b").dup().data().asFloat();
    for (int i = 0; i < ma.length; i++) assertEquals(mb[i], ma[i], 1e-7 + 1e-5 * mb[i]);
    assertTrue(ma[0] > 0, "moments were updated");
  }

  /**
   * Zeroing the gradients in the update (for callers that no longer need them) changes nothing
   * else, bit for bit, on both paths, with and without clipping.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
  void zeroingTheGradientsChangesNothingElse(boolean fused) {
    Map<String, long[]> shapes = new LinkedHashMap<>();
    shapes.put("w", new long[] {5, 11});
    shapes.put("b", new long[] {9});
    AdamW.Settings settings = new AdamW.Settings(0.9, 0.95, 1e-8, 0.1);
    FlatParameters pa = FlatParameters.zeros(shapes, (n, s) -> s.length >= 2);
    FlatParameters pb = FlatParameters.zeros(shapes, (n, s) -> s.length >= 2);
    SplittableRandom r = new SplittableRandom(5);
    long n = pa.flat().length();
    for (long i = 0; i < n; i++) {
      float w = (float) r.nextGaussian();
      pa.flat().putScalar(i, w);
      pb.flat().putScalar(i, w);
    }
    AdamW keep = new AdamW(settings, pa, fused), zero = new AdamW(settings, pb, fused);
    FlatParameters ga = pa.zerosLike(), gb = pb.zerosLike();
    for (int step = 0; step < 3; step++) {
      for (long i = 0; i < n; i++) {
        float gv = (float) r.nextGaussian() * 0.1f;
        ga.flat().putScalar(i, gv);
        gb.flat().putScalar(i, gv);
      }
      double scale = step == 1 ? 0.37 : 1.0;
      keep.update(ga, 1e-2, scale, false);
      zero.update(gb, 1e-2, scale, true);
      assertArrayEquals(pa.flat().dup().data().asFloat(), pb.flat().dup().data().asFloat(), 0f);
      assertArrayEquals(
          keep.firstMomentBuffer().flat().dup().data().asFloat(),
          zero.firstMomentBuffer().flat().dup().data().asFloat(),
          0f);
      assertArrayEquals(
          keep.secondMomentBuffer().flat().dup().data().asFloat(),
          zero.secondMomentBuffer().flat().dup().data().asFloat(),
          0f);
      assertArrayEquals(new float[(int) n], gb.flat().dup().data().asFloat(), 0f, "zeroed");
      assertTrue(ga.flat().dup().data().asFloat()[0] != 0f, "kept");
    }
  }

  /**
   * The fused pass (Vector API, split over cores, decayed prefix ending mid-vector) is the plain
   * element-by-element loop in PyTorch's order bit for bit, over several steps with clipping and
   * zeroing.
   */
  @Test
  void fusedUpdateIsThePlainLoopBitForBit() {
    int[][] layouts = {{481, 29}, {0, 37}, {5, 0}, {40_001, 9_999}};
    AdamW.Settings st = new AdamW.Settings(0.9, 0.95, 1e-8, 0.1);
    SplittableRandom r = new SplittableRandom(29);
    for (int[] layout : layouts) {
      Map<String, long[]> shapes = new LinkedHashMap<>();
      if (layout[1] > 0) shapes.put("b", new long[] {layout[1]});
      if (layout[0] > 0) shapes.put("w", new long[] {layout[0]});
      FlatParameters params = FlatParameters.zeros(shapes, (name, shape) -> name.equals("w"));
      int n = (int) params.flat().length();
      float[] p = new float[n], m = new float[n], v = new float[n];
      for (int i = 0; i < n; i++) p[i] = (float) r.nextGaussian();
      params.flat().assign(Nd4j.createFromArray(p));
      FlatParameters grads = params.zerosLike();
      AdamW adam = new AdamW(st, params, true);
      double lr = 1e-2;
      for (int step = 1; step <= 3; step++) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) g[i] = (float) (r.nextGaussian() * 0.1);
        grads.flat().assign(Nd4j.createFromArray(g));
        double scale = step == 2 ? 0.37 : 1.0;
        boolean zero = step == 3;
        adam.update(grads, lr, scale, zero);
        OptimizerKernels.AdamWStep k =
            new OptimizerKernels.AdamWStep(
                (float) st.beta1(),
                (float) (1 - st.beta1()),
                (float) st.beta2(),
                (float) (1 - st.beta2()),
                (float) Math.sqrt(1 - Math.pow(st.beta2(), step)),
                (float) st.eps(),
                (float) (lr / (1 - Math.pow(st.beta1(), step))),
                (float) scale,
                zero);
        float decay = (float) (1 - lr * st.weightDecay());
        OptimizerReference.adamW(p, g, m, v, 0, n, layout[0], decay, k);
        String at = "layout " + layout[0] + "+" + layout[1] + ", step " + step;
        assertArrayEquals(p, params.flat().toFloatVector(), 0f, "p " + at);
        assertArrayEquals(g, grads.flat().toFloatVector(), 0f, "g " + at);
        assertArrayEquals(m, adam.firstMomentBuffer().flat().toFloatVector(), 0f, "m " + at);
        assertArrayEquals(v, adam.secondMomentBuffer().flat().toFloatVector(), 0f, "v " + at);
      }
    }
  }
}
