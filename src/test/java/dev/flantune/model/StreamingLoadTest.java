package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Loading streams each weight from its file into the parameter buffer through a 1 MB window; the
 * result must equal reading every tensor whole, for each stored dtype, with tensors spanning many
 * windows (wte here is 1.3M values).
 */
class StreamingLoadTest {
  @ParameterizedTest
  @EnumSource(
      value = DType.class,
      names = {"F32", "F16", "BF16"})
  void streamedWeightsEqualWholeReads(DType dtype, @TempDir Path dir) throws Exception {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(5003, 64, 256, 1, 4, 5002);
    CausalLm original = CausalLm.random(c, 11);
    original.save(dir, dtype, null);

    CausalLm streamed = CausalLm.load(dir);
    Map<String, Tensor> whole = dev.flantune.model.Checkpoints.load(dir).weights();
    for (String name : original.parameterNames()) {
      float[] got = streamed.parameter(name).dup().data().asFloat();
      assertArrayEquals(whole.get(name).data(), got, 0f, name);
    }
    if (dtype == DType.F32) {
      float[] wte = original.parameter("wte.weight").dup().data().asFloat();
      assertArrayEquals(wte, streamed.parameter("wte.weight").dup().data().asFloat(), 0f);
    }
  }

  @Test
  void randomInitEqualsTheTensorPath() {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(97, 16, 32, 2, 2, 96);
    CausalLm direct = CausalLm.random(c, 5);
    CausalLm viaTensors =
        CausalLm.fromTensors(c, dev.flantune.model.ModelInit.randomWeights(c, 5), null);
    assertArrayEquals(
        viaTensors.parameters().flat().dup().data().asFloat(),
        direct.parameters().flat().dup().data().asFloat(),
        0f);
  }
}
