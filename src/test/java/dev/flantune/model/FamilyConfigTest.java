package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.family.Family;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** config.json of each family read into the neutral description, and refused with one line. */
class FamilyConfigTest {
  @TempDir Path dir;

  static final String LLAMA =
      "\"model_type\": \"llama\", \"vocab_size\": 100, \"hidden_size\": 32,"
          + " \"intermediate_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4,"
          + " \"max_position_embeddings\": 64";

  ModelConfig read(String json) throws IOException {
    Path f = dir.resolve("config.json");
    Files.writeString(f, "{" + json + "}");
    return Family.readConfig(f);
  }

  String error(String json) {
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> read(json));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    return e.getMessage();
  }

  @Test
  void llamaDefaultsAreHuggingFaces() throws IOException {
    ModelConfig c = read(LLAMA);
    assertEquals(4, c.nKvHead()); // num_key_value_heads absent: multi-head
    assertEquals(8, c.headSize());
    assertEquals(1e-6, c.normEps());
    assertEquals(10000.0, c.rope().theta());
    assertFalse(c.tied()); // LlamaConfig's default
    assertFalse(c.qkvBias() || c.outBias() || c.mlpBias());
    assertEquals(ModelConfig.Norm.RMS_NORM, c.norm());
    assertEquals(ModelConfig.Mlp.SWIGLU, c.mlp());
  }

  @Test
  void qwen2HasQkvBiasesButNoOutputBias() throws IOException {
    ModelConfig c =
        read(
            LLAMA.replace("llama", "qwen2")
                + ", \"num_key_value_heads\": 1, \"sliding_window\": 8, \"use_sliding_window\": false,"
                + " \"tie_word_embeddings\": true, \"rope_theta\": 1000000.0");
    assertTrue(c.qkvBias());
    assertFalse(c.outBias());
    assertEquals(1, c.nKvHead());
    assertTrue(c.tied());
    assertEquals(1e6, c.rope().theta());
    assertNotNull(Family.tableOf(c).name(ParamTable.Role.Q_BIAS, 0));
    assertNull(Family.tableOf(c).name(ParamTable.Role.O_BIAS, 0));
  }

  @Test
  void ropeScalingInEveryAcceptedSpelling() throws IOException {
    String llama3 =
        "\"factor\": 8.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 4.0,"
            + " \"original_max_position_embeddings\": 32";
    assertEquals(
        "llama3",
        read(LLAMA + ", \"rope_scaling\": {\"rope_type\": \"llama3\", " + llama3 + "}")
            .rope()
            .scaling()
            .type());
    assertEquals(
        2.0,
        read(LLAMA + ", \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}")
            .rope()
            .scaling()
            .factor());
    ModelConfig v5 =
        read(
            LLAMA
                + ", \"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 4.0,"
                + " \"rope_theta\": 500000.0}");
    assertEquals(500000.0, v5.rope().theta());
    assertEquals(4.0, v5.rope().scaling().factor());
    assertEquals("default", read(LLAMA + ", \"rope_scaling\": null").rope().scaling().type());
  }

  @Test
  void unsupportedThingsAreNamedWithWhatIsSupported() {
    String m = error(LLAMA.replace("\"llama\"", "\"falcon\""));
    assertTrue(m.contains("'falcon'") && m.contains("llama") && m.contains("qwen2"), m);
    m = error(LLAMA + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}");
    assertTrue(m.contains("yarn") && m.contains("linear") && m.contains("llama3"), m);
    m = error(LLAMA.replace("llama", "mistral") + ", \"sliding_window\": 16");
    assertTrue(m.contains("sliding_window") && m.contains("null"), m);
    m = error(LLAMA + ", \"hidden_act\": \"gelu\"");
    assertTrue(m.contains("hidden_act"), m);
    m = error(LLAMA + ", \"num_key_value_heads\": 3");
    assertTrue(m.contains("num_key_value_heads"), m);
    m = error(LLAMA.replace("\"hidden_size\": 32,", ""));
    assertTrue(m.contains("'hidden_size'"), m);
  }

  @Test
  void mistralWithoutAWindowOrWithALongOneLoads() throws IOException {
    String m = LLAMA.replace("llama", "mistral");
    assertEquals("mistral", read(m + ", \"sliding_window\": null").modelType());
    assertEquals("mistral", read(m + ", \"sliding_window\": 64").modelType());
  }

  @Test
  void llamaCheckpointRoundTripsByteForByteAndSkipsRotaryBuffers() throws IOException {
    ModelConfig c =
        dev.flantune.model.family.LlamaFamily.of(
            "llama", 50, 16, 16, 1, 4, 2, 24, 10000, true, 1, 2);
    CausalLm lm = CausalLm.random(c, 3);
    Path a = dir.resolve("a"), b = dir.resolve("b");
    lm.save(a, dev.flantune.checkpoint.DType.BF16, null);
    CausalLm.load(a).save(b, dev.flantune.checkpoint.DType.BF16, null);
    assertArrayEquals(
        Files.readAllBytes(a.resolve("model.safetensors")),
        Files.readAllBytes(b.resolve("model.safetensors")));
    assertEquals(
        Files.readString(a.resolve("config.json")), Files.readString(b.resolve("config.json")));
    // A tied model stored with a redundant lm_head and rotary buffers still loads.
    var w = new java.util.LinkedHashMap<>(lm.exportWeights());
    w.put("lm_head.weight", w.get("model.embed_tokens.weight"));
    w.put(
        "model.layers.0.self_attn.rotary_emb.inv_freq",
        dev.flantune.checkpoint.Tensor.ofFloats(new long[] {2}, new float[] {1f, 0.01f}));
    Path extra = dir.resolve("extra");
    Files.createDirectories(extra);
    dev.flantune.checkpoint.Safetensors.write(
        extra.resolve("model.safetensors"),
        w,
        dev.flantune.checkpoint.DType.F32,
        java.util.Map.of());
    Files.copy(a.resolve("config.json"), extra.resolve("config.json"));
    assertEquals(lm.parameterNames(), CausalLm.load(extra).parameterNames());
  }
}
