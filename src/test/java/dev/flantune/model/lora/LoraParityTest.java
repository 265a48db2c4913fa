package dev.flantune.model.lora;

import static dev.flantune.model.FixtureBatches.assertGradientClose;
import static dev.flantune.model.FixtureBatches.batch;
import static dev.flantune.model.FixtureBatches.meanWeights;
import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.checkpoint.Safetensors;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Engine;
import dev.flantune.model.GradientEngine;
import dev.flantune.model.GraphGradientEngine;
import dev.flantune.model.HalfPrecision;
import dev.flantune.model.cpu.CpuEngine;
import dev.flantune.train.AdamW;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LoRA against the float64 plain-PyTorch reference (scripts/reference/lora_ref.py, fixtures by
 * make_lora_parity_fixtures.py): a base and an adapter in PEFT's layout with non-zero B, the
 * expected per-token loss, the gradients of every A and B, three AdamW steps on A and B only, and
 * the merged weights. Cases: GPT-2 with c_attn and c_proj (attention and MLP: PEFT's suffix rule)
 * on Conv1D weights; Qwen2 with q_proj and v_proj (outputs inside the fused q|k|v projection),
 * rsLoRA and a BF16 base, packed; Llama with every projection (all-linear).
 */
class LoraParityTest {
  static final Path FIXTURES = Path.of("src/test/resources/parity-lora");
  static final double LOGIT_ABS = 1e-4, LOSS_REL = 1e-5, GRAD_REL_TO_MAX = 1e-4;
  static final double ADAM_ABS = 2e-5, MERGED_ABS = 1e-6;

  record Case(CausalLm model, LoraAdapter adapter, Batch batch, Map<String, Tensor> expected) {}

  static Case load(String name) {
    Path dir = FIXTURES.resolve(name);
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm model = CausalLm.load(dir.resolve("base"));
    LoraAdapter adapter = AdapterFiles.load(dir.resolve("adapter"), model);
    model.withAdapter(adapter);
    return new Case(model, adapter, batch(e, e.get("loss_mask").data()), e);
  }

  static GradientEngine engine(String kind, CausalLm model) {
    return kind.equals("graph") ? new GraphGradientEngine(model) : new CpuEngine(model);
  }

  static final String[] CASES = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"};

  /** Logits through the graph with the adapter unmerged, on every real token. */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"})
  void graphLogitsMatch(String name) {
    Case c = load(name);
    float[] got = c.model.logits(c.batch).data().asFloat();
    assertClose(got, c.expected.get("logits").data(), c, LOGIT_ABS, name + " logits");
  }

  /**
   * Per-token cross-entropy on every real token, by each engine's scoring path (the CPU engine's
   * low-rank paths beside the frozen projections; the graph's).
   */
  @ParameterizedTest
  @CsvSource({
    "gpt2-attn-proj, cpu",
    "qwen2-qv-rslora-bf16, cpu",
    "llama-all-linear, cpu",
    "gpt2-attn-proj, graph",
    "qwen2-qv-rslora-bf16, graph",
    "llama-all-linear, graph"
  })
  void perTokenLossMatches(String name, String kind) {
    Case c = load(name);
    c.model.useEngine(kind.equals("cpu") ? Engine.CPU : Engine.GRAPH);
    float[] real = c.expected.get("attention_mask").data();
    double[] nll = c.model.tokenScores(batch(c.expected, real)).nll();
    float[] ce = c.expected.get("ce").data();
    double max = 0;
    for (int i = 0; i < real.length; i++)
      if (real[i] != 0) max = Math.max(max, Math.abs(nll[i] - ce[i]));
    assertTrue(max <= LOGIT_ABS, name + "/" + kind + ": max per-token loss error " + max);
  }

  @ParameterizedTest
  @CsvSource({
    "gpt2-attn-proj, cpu",
    "qwen2-qv-rslora-bf16, cpu",
    "llama-all-linear, cpu",
    "gpt2-attn-proj, graph",
    "qwen2-qv-rslora-bf16, graph",
    "llama-all-linear, graph"
  })
  void lossAndEveryAdapterGradientMatch(String name, String kind) {
    Case c = load(name);
    GradientEngine engine = engine(kind, c.model);
    assertSame(c.adapter.parameters(), engine.trainable(), "only the adapter trains");
    engine.zeroGradients();
    double loss = engine.accumulate(c.batch, meanWeights(c.batch.lossMask()));
    double want = c.expected.get("loss").data()[0];
    assertEquals(want, loss, Math.abs(want) * LOSS_REL, name + "/" + kind + " loss");
    assertEquals(2 * c.adapter.modules().size(), engine.gradients().size());
    for (LoraAdapter.Module m : c.adapter.modules()) {
      for (String p : List.of(m.aName(), m.bName())) {
        Tensor ref = c.expected.get("grad." + p);
        assertNotNull(ref, "fixture has no gradient for " + p);
        assertGradientClose(
            name + "/" + kind + " grad " + p,
            ref,
            engine.gradients().get(p).dup().data().asFloat(),
            GRAD_REL_TO_MAX);
      }
    }
  }

  /** Three AdamW steps on A and B: the losses, the final A and B, and a bit-identical base. */
  @ParameterizedTest
  @CsvSource({
    "gpt2-attn-proj, cpu",
    "qwen2-qv-rslora-bf16, cpu",
    "llama-all-linear, cpu",
    "gpt2-attn-proj, graph",
    "qwen2-qv-rslora-bf16, graph",
    "llama-all-linear, graph"
  })
  void threeAdamWStepsMoveOnlyTheAdapter(String name, String kind) {
    Case c = load(name);
    float[] baseBefore = c.model.parameters().flat().dup().data().asFloat();
    GradientEngine engine = engine(kind, c.model);
    AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, 1e-8, 0.1), engine.trainable());
    float[] wantLoss = c.expected.get("adam.loss").data();
    float[] weights = meanWeights(c.batch.lossMask());
    for (int step = 0; step < wantLoss.length; step++) {
      engine.beginStep(step);
      engine.zeroGradients();
      double loss = engine.accumulate(c.batch, weights);
      assertEquals(wantLoss[step], loss, Math.abs(wantLoss[step]) * 1e-4, name + " step " + step);
      adam.update(engine.gradientBuffer(), 1e-2);
    }
    Map<String, INDArray> views = c.adapter.parameters().views();
    int checked = 0;
    for (Map.Entry<String, Tensor> e : c.expected.entrySet()) {
      if (!e.getKey().startsWith("adam.final.")) continue;
      String p = e.getKey().substring("adam.final.".length());
      float[] got = views.get(p).dup().data().asFloat();
      for (int i = 0; i < got.length; i++)
        assertEquals(e.getValue().data()[i], got[i], ADAM_ABS, name + " " + p + "[" + i + "]");
      checked++;
    }
    assertEquals(2 * c.adapter.modules().size(), checked);
    assertArrayEquals(
        baseBefore,
        c.model.parameters().flat().dup().data().asFloat(),
        "the frozen base must be bit-identical after training the adapter");
  }

  /** Merging writes W + s·B·A (Conv1D: transposed) as the reference does. */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"})
  void mergedWeightsMatch(String name) {
    Case c = load(name);
    CausalLm merged = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
    c.adapter.mergeInto(merged);
    int checked = 0;
    for (Map.Entry<String, Tensor> e : c.expected.entrySet()) {
      if (!e.getKey().startsWith("merged.")) continue;
      String p = e.getKey().substring("merged.".length());
      float[] got = merged.parameter(p).dup().data().asFloat();
      for (int i = 0; i < got.length; i++)
        assertEquals(e.getValue().data()[i], got[i], MERGED_ABS, name + " merged " + p);
      checked++;
    }
    assertEquals(c.adapter.modules().size(), checked);
  }

  /** A fresh adapter (B = 0) leaves every output exactly as the base's. */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"})
  void freshAdapterIsExactlyTheBase(String name) {
    Case c = load(name);
    CausalLm base = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
    float[] real = c.expected.get("attention_mask").data();
    Batch all = batch(c.expected, real);
    double[] want = base.useEngine(Engine.CPU).tokenScores(all).nll();
    CausalLm fresh = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
    LoraAdapter a = LoraAdapter.create(fresh, c.adapter.spec(), 7, null);
    for (LoraAdapter.Module m : a.modules()) {
      assertEquals(0.0, a.b(m).amaxNumber().doubleValue(), "B starts at zero");
      double bound = 1 / Math.sqrt(m.in());
      assertTrue(a.a(m).amaxNumber().doubleValue() <= bound, "A within ±1/sqrt(in)");
      assertTrue(a.a(m).amaxNumber().doubleValue() > 0.5 * bound, "A is drawn, not zero");
    }
    double[] got = fresh.withAdapter(a).useEngine(Engine.CPU).tokenScores(all).nll();
    assertArrayEquals(want, got, 0.0, name + ": a fresh adapter changed the outputs");
    assertClose(
        base.logits(all).data().asFloat(),
        c.expected.get("logits_base").data(),
        c,
        LOGIT_ABS,
        name + " base logits");
  }

  /** Scores of base + adapter equal the merged model's (the contract merge and --adapter keep). */
  @Test
  void adapterScoresEqualTheMergedModels() {
    for (String name : CASES) {
      Case c = load(name);
      Batch all = batch(c.expected, c.expected.get("attention_mask").data());
      double[] unmerged = c.model.useEngine(Engine.CPU).tokenScores(all).nll();
      CausalLm merged = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
      c.adapter.mergeInto(merged);
      double[] m = merged.useEngine(Engine.CPU).tokenScores(all).nll();
      assertArrayEquals(unmerged, m, 1e-4, name);
    }
  }

  /**
   * A base held in two bytes (model_dtype bf16 / f16) computes what an fp32 model holding the same
   * rounded weights computes, on both engines (the graph widens it in-graph): the loss bit for bit,
   * every adapter gradient to 1e-5, on GPT-2 (learned positions, Conv1D, the tied head widened 16
   * vocabulary rows at a time) and Qwen2.
   */
  @ParameterizedTest
  @CsvSource({
    "gpt2-attn-proj, BFLOAT16, cpu",
    "gpt2-attn-proj, HALF, cpu",
    "qwen2-qv-rslora-bf16, BFLOAT16, cpu",
    "llama-all-linear, BFLOAT16, cpu",
    "gpt2-attn-proj, BFLOAT16, graph",
    "gpt2-attn-proj, HALF, graph",
    "qwen2-qv-rslora-bf16, BFLOAT16, graph",
    "llama-all-linear, BFLOAT16, graph"
  })
  void twoByteBaseEqualsTheRoundedFp32Base(String name, String storage, String kind) {
    System.setProperty("flantune.headChunkRows", "16");
    try {
      DataType t = DataType.valueOf(storage);
      Path base = FIXTURES.resolve(name).resolve("base");
      CausalLm half = CausalLm.load(base, t);
      assertEquals(t, half.storage());
      CausalLm rounded = CausalLm.load(base);
      float[] w = rounded.parameters().flat().data().asFloat();
      for (int i = 0; i < w.length; i++)
        w[i] = HalfPrecision.decode(t, HalfPrecision.encode(t, w[i]));
      rounded.parameters().flat().assign(Nd4j.createFromArray(w));
      Map<String, Tensor> e =
          Safetensors.read(FIXTURES.resolve(name).resolve("expected.safetensors"));
      Batch b = batch(e, e.get("loss_mask").data());
      double[] losses = new double[2];
      float[][] grads = new float[2][];
      int k = 0;
      for (CausalLm m : List.of(half, rounded)) {
        LoraAdapter a = AdapterFiles.load(FIXTURES.resolve(name).resolve("adapter"), m);
        GradientEngine engine = engine(kind, m.withAdapter(a));
        engine.zeroGradients();
        losses[k] = engine.accumulate(b, meanWeights(b.lossMask()));
        grads[k++] = engine.gradientBuffer().flat().dup().data().asFloat();
      }
      assertEquals(losses[1], losses[0], 0.0, name + " loss");
      // The forward is the same bit for bit; the backward through a chunked head sums dLogits·head
      // chunk by chunk, a different order than one GEMM.
      double max = 0, err = 0;
      for (int i = 0; i < grads[0].length; i++) {
        max = Math.max(max, Math.abs(grads[1][i]));
        err = Math.max(err, Math.abs(grads[1][i] - grads[0][i]));
      }
      assertTrue(err <= 1e-5 * max, name + " adapter gradients: " + err + " of " + max);
      if (storage.equals("BFLOAT16") && name.startsWith("qwen2")) {
        // The fixture's base is stored in BF16: the reference ran on exactly these weights.
        assertEquals(e.get("loss").data()[0], losses[0], Math.abs(losses[0]) * LOSS_REL);
      }
    } finally {
      System.clearProperty("flantune.headChunkRows");
    }
  }

  @Test
  void twoByteBaseRefusesFullFineTuning() {
    CausalLm half =
        CausalLm.load(FIXTURES.resolve("llama-all-linear").resolve("base"), DataType.BFLOAT16);
    GradientEngine engine = new CpuEngine(half);
    var e = assertThrows(dev.flantune.util.FlanTuneException.class, engine::zeroGradients);
    assertTrue(e.getMessage().contains("LoRA"), e.getMessage());
    var g = assertThrows(dev.flantune.util.FlanTuneException.class, () -> engine("graph", half));
    assertTrue(g.getMessage().contains("LoRA"), g.getMessage());
  }

  /**
   * An adapter flan-tune writes is what the PEFT-layout reference writes: adapter_config.json with
   * the same value for every key, and the same tensors (names, shapes, values) in
   * adapter_model.safetensors, so whatever reads the reference's files reads flan-tune's.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"})
  void writtenAdapterIsThePeftLayout(String name) throws Exception {
    Case c = load(name);
    Path out = java.nio.file.Files.createTempDirectory("adapter");
    AdapterFiles.save(c.adapter, out, c.model.config());
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    var want =
        json.readTree(FIXTURES.resolve(name).resolve("adapter/adapter_config.json").toFile());
    var got = json.readTree(out.resolve("adapter_config.json").toFile());
    for (var it = want.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (k.equals("base_model_name_or_path")) continue; // where the base is, not what it is
      assertEquals(want.get(k).toString(), String.valueOf(got.get(k)), name + " config key " + k);
    }
    Map<String, Tensor> ref =
        Safetensors.read(FIXTURES.resolve(name).resolve("adapter/adapter_model.safetensors"));
    Map<String, Tensor> ours = Safetensors.read(out.resolve("adapter_model.safetensors"));
    assertEquals(ref.keySet(), ours.keySet());
    for (String k : ref.keySet()) {
      assertArrayEquals(ref.get(k).shape(), ours.get(k).shape(), k);
      assertArrayEquals(ref.get(k).data(), ours.get(k).data(), 0f, k);
    }
    LoraAdapter back =
        AdapterFiles.load(out, CausalLm.load(FIXTURES.resolve(name).resolve("base")));
    assertEquals(c.adapter.spec(), back.spec());
  }

  /**
   * Trains each case's adapter three steps and writes it, with flan-tune's per-token loss beside
   * it, to target/lora-written/CASE/ for scripts/reference/check_written_adapter.py, which loads it
   * into the float64 reference. Here: the written adapter reads back to the same scores.
   */
  @ParameterizedTest
  @ValueSource(strings = {"gpt2-attn-proj", "qwen2-qv-rslora-bf16", "llama-all-linear"})
  void trainedAdapterIsWrittenForTheReference(String name) throws Exception {
    Case c = load(name);
    GradientEngine engine = new CpuEngine(c.model);
    AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, 1e-8, 0.1), engine.trainable());
    for (int step = 0; step < 3; step++) {
      engine.beginStep(step);
      engine.zeroGradients();
      engine.accumulate(c.batch, meanWeights(c.batch.lossMask()));
      adam.update(engine.gradientBuffer(), 1e-2);
    }
    Path out = Path.of("target/lora-written").resolve(name);
    AdapterFiles.save(c.adapter, out.resolve("adapter"), c.model.config());
    Batch all = batch(c.expected, c.expected.get("attention_mask").data());
    double[] nll = c.model.useEngine(Engine.CPU).tokenScores(all).nll();
    var bytes =
        java.nio.ByteBuffer.allocate(4 * nll.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (double v : nll) bytes.putFloat((float) v);
    java.nio.file.Files.write(out.resolve("ce.f32"), bytes.array());
    CausalLm again = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
    again.withAdapter(AdapterFiles.load(out.resolve("adapter"), again));
    assertArrayEquals(nll, again.useEngine(Engine.CPU).tokenScores(all).nll(), 0.0, name);
  }

  /**
   * Dropout on the adapter path: training gradients change with it, the same step draws the same
   * masks (what exact resume needs), another step other masks, and scoring never drops.
   */
  @Test
  void dropoutIsSeededByTheStepAndOffWhenScoring() {
    String name = "llama-all-linear";
    Case c = load(name);
    LoraSpec s = c.adapter.spec();
    LoraSpec dropping = new LoraSpec(s.r(), s.alpha(), 0.5, s.targetModules(), s.rslora());
    float[] weights = meanWeights(c.batch.lossMask());
    java.util.function.BiFunction<LoraSpec, Long, float[]> grads =
        (spec, step) -> {
          CausalLm m = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
          LoraAdapter a = AdapterFiles.load(FIXTURES.resolve(name).resolve("adapter"), m);
          LoraAdapter withSpec = new LoraAdapter(spec, a.modules(), a.parameters(), a.baseModel());
          GradientEngine e = new CpuEngine(m.withAdapter(withSpec));
          e.beginStep(step);
          e.zeroGradients();
          e.accumulate(c.batch, weights);
          return e.gradientBuffer().flat().dup().data().asFloat();
        };
    float[] plain = grads.apply(s, 0L), first = grads.apply(dropping, 3L);
    assertArrayEquals(first, grads.apply(dropping, 3L), 0f, "same step, same masks");
    assertFalse(java.util.Arrays.equals(plain, first), "dropout changes the gradients");
    assertFalse(java.util.Arrays.equals(first, grads.apply(dropping, 4L)), "another step");
    CausalLm m = CausalLm.load(FIXTURES.resolve(name).resolve("base"));
    LoraAdapter a = AdapterFiles.load(FIXTURES.resolve(name).resolve("adapter"), m);
    m.withAdapter(new LoraAdapter(dropping, a.modules(), a.parameters(), a.baseModel()));
    Batch all = batch(c.expected, c.expected.get("attention_mask").data());
    double[] scored = m.useEngine(Engine.CPU).tokenScores(all).nll();
    assertArrayEquals(c.model.useEngine(Engine.CPU).tokenScores(all).nll(), scored, 0.0);
  }

  private static void assertClose(float[] got, float[] want, Case c, double tol, String what) {
    float[] real = c.expected.get("attention_mask").data();
    int v = c.model.config().vocabSize();
    double max = 0;
    for (int i = 0; i < real.length; i++) {
      if (real[i] == 0) continue;
      for (int j = 0; j < v; j++) max = Math.max(max, Math.abs(got[i * v + j] - want[i * v + j]));
    }
    assertTrue(max <= tol, what + ": max error " + max);
  }
}
