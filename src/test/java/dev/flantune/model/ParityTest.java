package dev.flantune.model;

import static dev.flantune.model.FixtureBatches.assertGradientClose;
import static dev.flantune.model.FixtureBatches.meanWeights;
import static dev.flantune.model.FixtureBatches.toInts;
import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.checkpoint.Safetensors;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
import dev.flantune.train.AdamW;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Parity of both engines with independent plain-PyTorch models (scripts/reference/: GPT-2 and the
 * Llama family), computed in float64: logits, masked loss, every parameter gradient, then three
 * AdamW steps. GPT-2 cases: right padding with a prompt-masked loss; packed rows (block-diagonal
 * attention, positions restarting); an untied head with an odd head count. Llama-family cases:
 * grouped KV heads with padding; Qwen2 (q/k/v biases) with one KV head, packed (RoPE positions
 * restarting per example); Llama 3 RoPE scaling with an explicit head size, attention and MLP
 * biases and an untied head; Mistral with linear RoPE scaling, packed.
 */
class ParityTest {
  static final Path FIXTURES = Path.of("src/test/resources");

  // Tolerances (fp32 against a float64 reference).
  static final double LOGIT_ABS = 1e-4;
  static final double LOSS_REL = 1e-5;
  static final double GRAD_REL_TO_MAX = 1e-4; // per tensor: max |Δ| ≤ this · max |reference|
  static final double ADAM_WEIGHT_ABS = 2e-5;

  record Case(CausalLm model, Batch batch, Map<String, Tensor> expected) {}

  static Case load(String name) {
    Path dir = FIXTURES.resolve(name);
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm model = CausalLm.load(dir);
    Batch b = FixtureBatches.batch(e, e.get("loss_mask").data());
    return new Case(model, b, e);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "parity/pad",
        "parity/packed",
        "parity/untied",
        "parity-llama/llama-gqa-pad",
        "parity-llama/qwen2-mqa-packed",
        "parity-llama/llama3-scaled-untied",
        "parity-llama/linear-scaled"
      })
  void logitsMatchOnRealTokens(String name) {
    Case c = load(name);
    float[] got = c.model.logits(c.batch).data().asFloat();
    float[] want = c.expected.get("logits").data();
    float[] real = c.expected.get("attention_mask").data();
    int v = c.model.config().vocabSize();
    double max = 0;
    for (int i = 0; i < real.length; i++) {
      if (real[i] == 0) continue;
      for (int j = 0; j < v; j++) max = Math.max(max, Math.abs(got[i * v + j] - want[i * v + j]));
    }
    assertTrue(max <= LOGIT_ABS, name + ": max logit error " + max);
  }

  /** Both gradient engines, checked against the same reference. */
  static GradientEngine engine(String kind, CausalLm model) {
    return kind.equals("graph")
        ? new GraphGradientEngine(model)
        : new dev.flantune.model.cpu.CpuEngine(model);
  }

  @ParameterizedTest
  @CsvSource({
    "parity/pad, cpu",
    "parity/packed, cpu",
    "parity/untied, cpu",
    "parity-llama/llama-gqa-pad, cpu",
    "parity-llama/qwen2-mqa-packed, cpu",
    "parity-llama/llama3-scaled-untied, cpu",
    "parity-llama/linear-scaled, cpu",
    "parity/pad, graph",
    "parity/packed, graph",
    "parity/untied, graph",
    "parity-llama/llama-gqa-pad, graph",
    "parity-llama/qwen2-mqa-packed, graph",
    "parity-llama/llama3-scaled-untied, graph",
    "parity-llama/linear-scaled, graph"
  })
  void lossAndEveryGradientMatch(String name, String kind) {
    Case c = load(name);
    GradientEngine engine = engine(kind, c.model);
    engine.zeroGradients();
    double loss = engine.accumulate(c.batch, meanWeights(c.batch.lossMask()));
    double want = c.expected.get("loss").data()[0];
    assertEquals(want, loss, Math.abs(want) * LOSS_REL, name + "/" + kind + " loss");
    int checked = 0;
    for (String p : c.model.parameterNames()) {
      Tensor ref = c.expected.get("grad." + p);
      assertNotNull(ref, "fixture has no gradient for " + p);
      assertGradientClose(
          name + "/" + kind + " grad " + p,
          ref,
          engine.gradients().get(p).dup().data().asFloat(),
          GRAD_REL_TO_MAX);
      checked++;
    }
    assertEquals(c.model.parameterNames().size(), checked);
  }

  @ParameterizedTest
  @CsvSource({
    "parity/pad, cpu",
    "parity/packed, cpu",
    "parity/untied, cpu",
    "parity-llama/llama-gqa-pad, cpu",
    "parity-llama/qwen2-mqa-packed, cpu",
    "parity-llama/llama3-scaled-untied, cpu",
    "parity-llama/linear-scaled, cpu",
    "parity/pad, graph",
    "parity/packed, graph",
    "parity/untied, graph",
    "parity-llama/llama-gqa-pad, graph",
    "parity-llama/qwen2-mqa-packed, graph",
    "parity-llama/llama3-scaled-untied, graph",
    "parity-llama/linear-scaled, graph"
  })
  void threeAdamWStepsMatch(String name, String kind) {
    Case c = load(name);
    GradientEngine engine = engine(kind, c.model);
    Map<String, INDArray> params = c.model.parameters().views();
    AdamW adam = new AdamW(new AdamW.Settings(0.9, 0.999, 1e-8, 0.1), c.model.parameters());
    float[] wantLoss = c.expected.get("adam.loss").data();
    float[] weights = meanWeights(c.batch.lossMask());
    for (int step = 0; step < wantLoss.length; step++) {
      engine.zeroGradients();
      double loss = engine.accumulate(c.batch, weights);
      assertEquals(
          wantLoss[step], loss, Math.abs(wantLoss[step]) * 1e-4, name + " loss at step " + step);
      adam.update(engine.gradientBuffer(), 1e-2);
    }
    for (Map.Entry<String, Tensor> e : c.expected.entrySet()) {
      if (!e.getKey().startsWith("adam.final.")) continue;
      String p = e.getKey().substring("adam.final.".length());
      float[] got = params.get(p).dup().data().asFloat();
      for (int i = 0; i < got.length; i++) {
        assertEquals(
            e.getValue().data()[i],
            got[i],
            ADAM_WEIGHT_ABS,
            name + " " + p + "[" + i + "] after 3 steps");
      }
    }
  }

  /**
   * Other on-disk layouts of the untied case's weights (F16; BF16 sharded with prefixes; redundant
   * head).
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "parity/formats/f16",
        "parity/formats/bf16-sharded-prefixed",
        "parity/formats/tied-prefixed-redundant-head",
        "parity-llama/formats/rope-parameters-bf16-sharded"
      })
  void otherLayoutsLoadToTheSameModel(String name) {
    Path dir = FIXTURES.resolve(name);
    Map<String, Tensor> e = Safetensors.read(dir.resolve("expected.safetensors"));
    CausalLm model = CausalLm.load(dir);
    int rows = (int) e.get("input_ids").shape()[0], t = (int) e.get("input_ids").shape()[1];
    int[] seg = toInts(e.get("attention_mask").data());
    Batch b =
        new Batch(
            rows,
            t,
            e.get("input_ids").ints(),
            e.get("position_ids").ints(),
            seg,
            new int[rows * t],
            new float[rows * t]);
    float[] got = model.logits(b).data().asFloat();
    float[] want = e.get("logits").data();
    int v = model.config().vocabSize();
    double max = 0;
    for (int i = 0; i < seg.length; i++) {
      if (seg[i] == 0) continue;
      for (int j = 0; j < v; j++) max = Math.max(max, Math.abs(got[i * v + j] - want[i * v + j]));
    }
    assertTrue(max <= LOGIT_ABS, name + ": max logit error " + max);
  }

  /** RoPE frequencies after scaling (none, Llama 3, linear) equal the reference's inv_freq. */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "parity-llama/llama-gqa-pad",
        "parity-llama/llama3-scaled-untied",
        "parity-llama/linear-scaled"
      })
  void ropeFrequenciesMatch(String name) {
    Path dir = FIXTURES.resolve(name);
    Tensor want = Safetensors.read(dir.resolve("expected.safetensors")).get("rope.inv_freq");
    ModelConfig c = dev.flantune.model.family.Family.readConfig(dir.resolve("config.json"));
    double[] got = c.rope().inverseFrequencies(c.headSize());
    assertEquals(want.data().length, got.length);
    for (int i = 0; i < got.length; i++)
      assertEquals(want.data()[i], got[i], 1e-6 * Math.abs(want.data()[i]) + 1e-12, name + " " + i);
  }
}
