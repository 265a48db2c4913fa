package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.flantune.data.Batch;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gradients are bit-identical run to run, which exact resume depends on. Guards the embedding
 * backward: ND4J's multi-threaded scatter_add accumulates repeated ids in a varying order.
 */
class GradientDeterminismTest {
  @ParameterizedTest
  @ValueSource(strings = {"cpu", "graph"})
  void sameBatchGivesBitIdenticalGradients(String kind) {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(97, 32, 16, 1, 2, 96);
    var weights = dev.flantune.model.ModelInit.randomWeights(c, 1);
    SplittableRandom r = new SplittableRandom(2);
    int rows = 4, t = 16, n = rows * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = r.nextInt(8); // few distinct ids: many repeats in the embedding backward
      labels[i] = r.nextInt(c.vocabSize());
      pos[i] = i % t;
      seg[i] = 1;
      mask[i] = 1f / n;
    }
    Batch b = new Batch(rows, t, ids, pos, seg, labels, mask);
    Map<String, float[]> first = null;
    for (int rep = 0; rep < 4; rep++) {
      GradientEngine e = ParityTest.engine(kind, CausalLm.fromTensors(c, weights, null));
      for (int k = 0; k < 2; k++) {
        e.zeroGradients();
        e.accumulate(b, mask);
        Map<String, float[]> g = new LinkedHashMap<>();
        e.gradients().forEach((name, v) -> g.put(name, v.dup().data().asFloat()));
        if (first == null) first = g;
        for (String name : g.keySet())
          assertArrayEquals(first.get(name), g.get(name), 0f, name + " on repeat " + rep + "/" + k);
      }
    }
  }
}
