package dev.flantune.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.config.RunConfig.Schedule;
import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The optimizer step: accumulation, target-only loss, clipping, the NaN guard, the schedule. */
class TrainStepTest {
  static final dev.flantune.model.ModelConfig C =
      dev.flantune.model.family.Gpt2Family.of(61, 32, 16, 2, 2, 60);
  static final AdamW.Settings ADAM = new AdamW.Settings(0.9, 0.999, 1e-8, 0.1);

  static CausalLm model() {
    return CausalLm.fromTensors(C, dev.flantune.model.ModelInit.randomWeights(C, 11), null);
  }

  /** A source handing out the given batches in order. */
  static BatchSource of(List<Batch> batches) {
    Deque<Batch> q = new ArrayDeque<>(batches);
    return new BatchSource() {
      long pos;

      public Batch next() {
        pos++;
        return q.removeFirst();
      }

      public long position() {
        return pos;
      }

      public void seek(long p) {
        throw new UnsupportedOperationException();
      }

      public String fingerprint() {
        return "test";
      }
    };
  }

  /**
   * Random rows of length t with a prompt (masked) then a target of varying length; right padding.
   */
  static Batch randomRows(int rows, int t, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int n = rows * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int row = 0; row < rows; row++) {
      int len = 4 + r.nextInt(t - 4), prompt = 1 + r.nextInt(len - 2);
      for (int i = 0; i < t; i++) {
        int k = row * t + i;
        ids[k] = r.nextInt(C.vocabSize());
        labels[k] = r.nextInt(C.vocabSize());
        if (i < len) {
          pos[k] = i;
          seg[k] = 1;
          mask[k] = i >= prompt - 1 && i < len - 1 ? 1f : 0f;
        }
      }
    }
    return new Batch(rows, t, ids, pos, seg, labels, mask);
  }

  /** Concatenates single-row batches into one. */
  static Batch stack(List<Batch> rows) {
    int t = rows.get(0).length(), n = rows.size() * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int r = 0; r < rows.size(); r++) {
      Batch b = rows.get(r);
      System.arraycopy(b.inputIds(), 0, ids, r * t, t);
      System.arraycopy(b.positionIds(), 0, pos, r * t, t);
      System.arraycopy(b.segmentIds(), 0, seg, r * t, t);
      System.arraycopy(b.labels(), 0, labels, r * t, t);
      System.arraycopy(b.lossMask(), 0, mask, r * t, t);
    }
    return new Batch(rows.size(), t, ids, pos, seg, labels, mask);
  }

  static float[] flat(CausalLm m, String p) {
    return m.parameter(p).dup().data().asFloat();
  }

  @Test
  void fourMicroBatchesEqualOneBatchFourTimesLarger() {
    List<Batch> rows =
        List.of(
            randomRows(1, 12, 1), randomRows(1, 12, 2), randomRows(1, 12, 3), randomRows(1, 12, 4));
    assertNotEquals(
        rows.get(0).targetTokens(),
        rows.get(1).targetTokens(),
        "unequal target counts make the test meaningful");
    CausalLm a = model(), b = model();
    TrainStep sa = new TrainStep(a, ADAM, 0, 4), sb = new TrainStep(b, ADAM, 0, 1);
    TrainStep.Result ra = sa.run(of(rows), 0, 1e-3);
    TrainStep.Result rb = sb.run(of(List.of(stack(rows))), 0, 1e-3);
    assertEquals(rb.loss(), ra.loss(), 1e-6);
    assertEquals(rb.gradNorm(), ra.gradNorm(), 1e-6 * rb.gradNorm());
    assertEquals(rb.targetTokens(), ra.targetTokens());
    for (String p : a.parameterNames()) {
      float[] x = sa.gradients().get(p).dup().data().asFloat(),
          y = sb.gradients().get(p).dup().data().asFloat();
      double max = 0;
      for (float v : y) max = Math.max(max, Math.abs(v));
      for (int i = 0; i < x.length; i++)
        assertEquals(y[i], x[i], 1e-5 * max + 1e-9, "gradient " + p + "[" + i + "]");
    }
    // After AdamW, compare where the gradient is signal: where it is rounding noise around an exact
    // 0 (the key bias: softmax ignores a shift shared by all keys), the first update is lr·g/(|g| +
    // eps) of that noise, any value in ±lr (checked above: the gradients agree to 1e-5 of the max).
    for (String p : a.parameterNames()) {
      float[] x = flat(a, p), y = flat(b, p);
      float[] g = sb.gradients().get(p).dup().data().asFloat();
      double max = 0;
      for (float v : g) max = Math.max(max, Math.abs(v));
      for (int i = 0; i < x.length; i++) {
        if (Math.abs(g[i]) <= 1e-6 * max) continue;
        assertEquals(y[i], x[i], 1e-6, p + "[" + i + "]");
      }
    }
  }

  @Test
  void promptLabelsDoNotReachTheGradient() {
    Batch batch = randomRows(2, 12, 5);
    int masked = -1;
    for (int i = 0; i < batch.lossMask().length && masked < 0; i++) {
      if (batch.lossMask()[i] == 0f && batch.segmentIds()[i] != 0) masked = i;
    }
    int[] labels = batch.labels().clone();
    labels[masked] = (labels[masked] + 7) % C.vocabSize();
    Batch perturbed =
        new Batch(
            batch.rows(),
            batch.length(),
            batch.inputIds(),
            batch.positionIds(),
            batch.segmentIds(),
            labels,
            batch.lossMask());
    var ga = gradients(batch);
    var gb = gradients(perturbed);
    for (String p : ga.keySet()) assertArrayEquals(ga.get(p), gb.get(p), 0f, p);
    // And the converse: a target label does change the gradient.
    int target = -1;
    for (int i = 0; i < batch.lossMask().length && target < 0; i++)
      if (batch.lossMask()[i] == 1f) target = i;
    int[] labels2 = batch.labels().clone();
    labels2[target] = (labels2[target] + 7) % C.vocabSize();
    var gc =
        gradients(
            new Batch(
                batch.rows(),
                batch.length(),
                batch.inputIds(),
                batch.positionIds(),
                batch.segmentIds(),
                labels2,
                batch.lossMask()));
    assertFalse(java.util.Arrays.equals(ga.get("wte.weight"), gc.get("wte.weight")));
  }

  private static Map<String, float[]> gradients(Batch b) {
    CausalLm m = model();
    var engine = dev.flantune.model.GradientEngine.forModel(m);
    engine.zeroGradients();
    engine.accumulate(b, TrainStep.weights(b.lossMask(), b.targetTokens()));
    var out = new java.util.LinkedHashMap<String, float[]>();
    engine.gradients().forEach((k, v) -> out.put(k, v.dup().data().asFloat()));
    return out;
  }

  @Test
  void clippingScalesTheGradientToTheLimit() {
    Batch b = randomRows(2, 12, 6);
    CausalLm m = model();
    TrainStep step = new TrainStep(m, ADAM, 0.05, 1);
    TrainStep.Result r = step.run(of(List.of(b)), 0, 1e-3);
    assertTrue(
        r.gradNorm() > 0.05, "the raw norm must exceed the limit for this test to mean anything");
    assertTrue(r.clipped());
    assertEquals(0.05, step.gradientNorm(), 1e-6);
    TrainStep unclipped = new TrainStep(model(), ADAM, 0, 1);
    unclipped.run(of(List.of(b)), 0, 1e-3);
    assertEquals(r.gradNorm(), unclipped.gradientNorm(), 1e-6 * r.gradNorm());
  }

  /**
   * AdamW zeroing the gradients in its pass (train, bench, local SGD) takes bit-identical steps to
   * keeping them and zeroing at the next step's start, across accumulation and clipping, on both
   * engines, and leaves them zero.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"cpu", "graph"})
  void discardingGradientsTakesTheSameStepsAndLeavesThemZero(String engine) {
    CausalLm a = model(), b = model();
    if (engine.equals("graph")) {
      a.useEngine(dev.flantune.model.Engine.GRAPH);
      b.useEngine(dev.flantune.model.Engine.GRAPH);
    }
    TrainStep keep = new TrainStep(a, ADAM, 0.05, 2);
    TrainStep discard = new TrainStep(b, ADAM, 0.05, 2).discardingGradients();
    assertEquals(engine, discard.engineName());
    boolean clipped = false;
    for (int s = 0; s < 3; s++) {
      List<Batch> micro = List.of(randomRows(2, 12, 20 + 2 * s), randomRows(1, 12, 21 + 2 * s));
      TrainStep.Result ra = keep.run(of(micro), s, 1e-3), rb = discard.run(of(micro), s, 1e-3);
      assertEquals(ra.loss(), rb.loss(), 0.0, "step " + s);
      assertEquals(ra.gradNorm(), rb.gradNorm(), 0.0, "step " + s);
      clipped |= rb.clipped();
      for (String p : a.parameterNames()) assertArrayEquals(flat(a, p), flat(b, p), 0f, p);
      for (var g : discard.gradients().entrySet())
        for (float v : g.getValue().dup().data().asFloat()) assertEquals(0f, v, g.getKey());
      assertNotEquals(0.0, keep.gradientNorm(), "the kept gradients are still there");
    }
    assertTrue(clipped, "clipping ran, so the scaled gradients were zeroed too");
  }

  /** The skipped zeroing pass is skipped only while nothing could have written the gradients. */
  @Test
  void zeroingIsSkippedOnlyUntilTheGradientsAreTouched() {
    var engine = dev.flantune.model.GradientEngine.forModel(model());
    Batch b = randomRows(2, 12, 30);
    float[] w = TrainStep.weights(b.lossMask(), b.targetTokens());
    engine.zeroGradients();
    engine.accumulate(b, w);
    engine.gradientsZeroed(); // (untrue here, to see whether the pass ran)
    engine.zeroGradients();
    assertNotEquals(0.0, engine.gradientBuffer().norm2(), "the pass was skipped");
    engine.gradientsZeroed();
    engine.gradientBuffer().flat().assign(1); // written through the handed-out buffer
    engine.zeroGradients();
    assertEquals(0.0, engine.gradientBuffer().norm2(), "zeroed after the buffer was handed out");
    engine.gradientsZeroed();
    engine.accumulate(b, w);
    double once = engine.gradientBuffer().norm2();
    engine.zeroGradients();
    engine.accumulate(b, w);
    assertEquals(once, engine.gradientBuffer().norm2(), 0.0, "zeroed after an accumulate");
  }

  @Test
  void nonFiniteLossStopsBeforeAnyUpdate() {
    CausalLm m = model();
    m.parameter("h.1.mlp.c_fc.bias").putScalar(3, Float.NaN);
    float[] before = flat(m, "wte.weight");
    TrainStep step = new TrainStep(m, ADAM, 1.0, 1);
    TrainStep.NonFinite e =
        assertThrows(
            TrainStep.NonFinite.class, () -> step.run(of(List.of(randomRows(2, 12, 7))), 4, 1e-3));
    assertTrue(e.getMessage().startsWith("step 5: loss is NaN"), e.getMessage());
    assertTrue(e.getMessage().contains("train.lr"), "the message says what to change");
    assertArrayEquals(before, flat(m, "wte.weight"), 0f);
    assertEquals(0, step.optimizer().step());
  }

  @Test
  void allZeroLossMaskIsAnError() {
    Batch b = randomRows(1, 12, 8);
    Batch none =
        new Batch(1, 12, b.inputIds(), b.positionIds(), b.segmentIds(), b.labels(), new float[12]);
    var e =
        assertThrows(
            dev.flantune.util.FlanTuneException.class,
            () -> new TrainStep(model(), ADAM, 1, 1).run(of(List.of(none)), 0, 1e-3));
    assertTrue(e.getMessage().contains("no target tokens"));
  }

  @Test
  void lossFallsWhenOverfittingOneBatch() {
    Batch b = randomRows(2, 12, 9);
    CausalLm m = model();
    TrainStep step = new TrainStep(m, ADAM, 1.0, 1);
    double first = 0, last = 0;
    for (int s = 0; s < 40; s++) {
      double loss = step.run(of(List.of(b)), s, 1e-2).loss();
      if (s == 0) first = loss;
      last = loss;
    }
    assertTrue(first > Math.log(C.vocabSize()) - 0.5, "starts near ln V: " + first);
    assertTrue(last < first / 4, "memorizes: " + first + " -> " + last);
  }

  @Test
  void scheduleValues() {
    LrSchedule cos = new LrSchedule(1.0, 4, 13, Schedule.COSINE, 0.1);
    assertEquals(0.25, cos.at(0), 1e-12);
    assertEquals(1.0, cos.at(3), 1e-12);
    assertEquals(1.0, cos.at(4), 1e-12); // first step after warmup: the peak
    assertEquals(0.55, cos.at(8), 1e-12); // halfway through decay (steps 4..12)
    assertEquals(0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI / 4)), cos.at(6), 1e-12);
    assertEquals(0.1, cos.at(12), 1e-12); // last step: the floor
    LrSchedule lin = new LrSchedule(2.0, 0, 11, Schedule.LINEAR, 0.0);
    assertEquals(2.0, lin.at(0), 1e-12);
    assertEquals(1.0, lin.at(5), 1e-12);
    assertEquals(0.0, lin.at(10), 1e-12);
    LrSchedule con = new LrSchedule(3.0, 2, 10, Schedule.CONSTANT, 0.1);
    assertEquals(1.5, con.at(0), 1e-12);
    assertEquals(3.0, con.at(9), 1e-12);
  }
}
