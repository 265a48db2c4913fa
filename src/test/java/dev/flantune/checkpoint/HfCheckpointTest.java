package dev.flantune.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading Hugging Face checkpoint directories: every layout variant, and every malformed case. */
class HfCheckpointTest {
  @TempDir Path dir;

  static final dev.flantune.model.ModelConfig TINY =
      dev.flantune.model.family.Gpt2Family.of(50, 16, 8, 2, 2, 49);

  private Path write(
      String name, dev.flantune.model.ModelConfig c, Map<String, Tensor> weights, DType dt)
      throws IOException {
    Path d = dir.resolve(name);
    dev.flantune.model.Checkpoints.save(d, c, weights, dt, null);
    return d;
  }

  private static String loadError(Path d) {
    FlanTuneException e =
        assertThrows(FlanTuneException.class, () -> dev.flantune.model.Checkpoints.load(d));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertFalse(e.getMessage().contains("\n"));
    return e.getMessage();
  }

  /** Rewrites a checkpoint's weights file with renamed/added/removed tensors. */
  private static void rewrite(Path d, java.util.function.Consumer<Map<String, Tensor>> edit)
      throws IOException {
    Map<String, Tensor> t = new LinkedHashMap<>(Safetensors.read(d.resolve(HfCheckpoint.WEIGHTS)));
    edit.accept(t);
    Safetensors.write(d.resolve(HfCheckpoint.WEIGHTS), t, DType.F32, Map.of());
  }

  @Test
  void loadSaveLoadIsBitIdentical() throws IOException {
    for (DType dt : new DType[] {DType.F32, DType.BF16, DType.F16}) {
      Path a = write("a-" + dt, TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 3), dt);
      var first = dev.flantune.model.Checkpoints.load(a);
      assertEquals(dt, first.storedAs());
      Path b = dir.resolve("b-" + dt);
      dev.flantune.model.Checkpoints.save(b, first.config(), first.weights(), dt, null);
      var second = dev.flantune.model.Checkpoints.load(b);
      for (String name : first.weights().keySet()) {
        assertArrayEquals(
            first.weights().get(name).data(), second.weights().get(name).data(), name);
      }
      assertArrayEquals(
          Files.readAllBytes(a.resolve(HfCheckpoint.WEIGHTS)),
          Files.readAllBytes(b.resolve(HfCheckpoint.WEIGHTS)));
      assertEquals(first.config(), second.config());
    }
  }

  @Test
  void prefixedNamesAndLegacyBuffersLoad() throws IOException {
    Map<String, Tensor> w = dev.flantune.model.ModelInit.randomWeights(TINY, 1);
    Path d = write("prefixed", TINY, w, DType.F32);
    rewrite(
        d,
        t -> {
          Map<String, Tensor> renamed = new LinkedHashMap<>();
          t.forEach((k, v) -> renamed.put("transformer." + k, v));
          renamed.put(
              "transformer.h.0.attn.bias",
              Tensor.ofFloats(new long[] {1, 1, 16, 16}, new float[256]));
          renamed.put(
              "transformer.h.1.attn.masked_bias", Tensor.ofFloats(new long[] {}, new float[1]));
          renamed.put("lm_head.weight", w.get("wte.weight")); // tied: stored copy is ignored
          t.clear();
          t.putAll(renamed);
        });
    var c = dev.flantune.model.Checkpoints.load(d);
    assertArrayEquals(
        w.get("h.1.mlp.c_fc.weight").data(), c.weights().get("h.1.mlp.c_fc.weight").data());
    assertFalse(c.weights().containsKey("lm_head.weight"));
  }

  @Test
  void shardedCheckpointLoads() throws IOException {
    Map<String, Tensor> w = dev.flantune.model.ModelInit.randomWeights(TINY, 2);
    Path d = Files.createDirectories(dir.resolve("sharded"));
    Files.writeString(d.resolve("config.json"), HfCheckpoint.JSON.writeValueAsString(TINY.json()));
    Map<String, Tensor> one = new LinkedHashMap<>(), two = new LinkedHashMap<>();
    StringBuilder map = new StringBuilder();
    int i = 0;
    for (var e : w.entrySet()) {
      String shard =
          (i++ % 2 == 0) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
      (shard.contains("00001-of") ? one : two).put(e.getKey(), e.getValue());
      map.append(map.length() == 0 ? "" : ",")
          .append('"')
          .append(e.getKey())
          .append("\":\"")
          .append(shard)
          .append('"');
    }
    Safetensors.write(d.resolve("model-00001-of-00002.safetensors"), one, DType.BF16, Map.of());
    Safetensors.write(d.resolve("model-00002-of-00002.safetensors"), two, DType.BF16, Map.of());
    Files.writeString(
        d.resolve(HfCheckpoint.INDEX), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
    var c = dev.flantune.model.Checkpoints.load(d);
    assertEquals(w.keySet(), c.weights().keySet());
    assertEquals(w.get("ln_f.bias").data()[0], c.weights().get("ln_f.bias").data()[0], 1e-2);
  }

  @Test
  void untiedHeadIsRequiredAndLoaded() throws IOException {
    var gpt2 =
        new dev.flantune.model.Gpt2Config(
            "gpt2", 50, 16, 8, 1, 2, null, 1e-5, "gelu_new", false, 49, 49, null);
    dev.flantune.model.ModelConfig untied =
        dev.flantune.model.family.Gpt2Family.describe(
            gpt2, 1e-5, new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(gpt2));
    Map<String, Tensor> w = dev.flantune.model.ModelInit.randomWeights(untied, 5);
    assertTrue(w.containsKey("lm_head.weight"));
    Path d = write("untied", untied, w, DType.F32);
    assertArrayEquals(
        w.get("lm_head.weight").data(),
        dev.flantune.model.Checkpoints.load(d).weights().get("lm_head.weight").data());
    rewrite(d, t -> t.remove("lm_head.weight"));
    String msg = loadError(d);
    assertTrue(msg.contains("'lm_head.weight'") && msg.contains("tie_word_embeddings"), msg);
  }

  @Test
  void missingTensorIsNamed() throws IOException {
    Path d = write("missing", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    rewrite(d, t -> t.remove("h.1.attn.c_proj.bias"));
    String msg = loadError(d);
    assertTrue(msg.contains("missing tensor 'h.1.attn.c_proj.bias'"), msg);
  }

  @Test
  void extraTensorIsNamed() throws IOException {
    Path d = write("extra", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    rewrite(d, t -> t.put("h.2.ln_1.weight", Tensor.ofFloats(new long[] {8}, new float[8])));
    String msg = loadError(d);
    assertTrue(msg.contains("'h.2.ln_1.weight'") && msg.contains("model.safetensors"), msg);
  }

  @Test
  void wrongShapeIsNamed() throws IOException {
    Path d = write("shape", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    rewrite(d, t -> t.put("wpe.weight", Tensor.ofFloats(new long[] {8, 16}, new float[128])));
    String msg = loadError(d);
    assertTrue(
        msg.contains("'wpe.weight'") && msg.contains("[8, 16]") && msg.contains("[16, 8]"), msg);
  }

  @Test
  void duplicatePrefixedAndPlainNamesAreRefused() throws IOException {
    Path d = write("dup", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    rewrite(d, t -> t.put("transformer.ln_f.bias", t.get("ln_f.bias")));
    assertTrue(loadError(d).contains("duplicates 'ln_f.bias'"));
  }

  @Test
  void pickleOnlyCheckpointIsRefusedWithAHint() throws IOException {
    Path d = Files.createDirectories(dir.resolve("pickle"));
    Files.writeString(d.resolve("config.json"), HfCheckpoint.JSON.writeValueAsString(TINY.json()));
    Files.write(d.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2, 'c', 'o', 's'});
    String msg = loadError(d);
    assertTrue(msg.contains("pytorch_model.bin") && msg.contains("safetensors"), msg);
  }

  @Test
  void missingOrBadConfigIsNamed() throws IOException {
    Path d = write("cfg", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    Files.writeString(
        d.resolve("config.json"),
        "{\"n_embd\": 8, \"n_layer\": 2, \"n_head\": 3, \"vocab_size\": 50, \"n_positions\": 16}");
    assertTrue(loadError(d).contains("divisible by n_head"));
    Files.writeString(d.resolve("config.json"), "{\"n_embd\": 8,");
    assertTrue(loadError(d).contains("config.json: not valid JSON"));
    Files.writeString(
        d.resolve("config.json"),
        "{\"n_embd\": 8, \"n_layer\": 2, \"n_head\": 2, \"vocab_size\": 50}");
    assertTrue(loadError(d).contains("'n_positions'"));
    Files.delete(d.resolve("config.json"));
    assertTrue(loadError(d).contains("config.json: missing"));
  }

  @Test
  void shardOutsideTheDirectoryIsRefused() throws IOException {
    Path d = write("escape", TINY, dev.flantune.model.ModelInit.randomWeights(TINY, 1), DType.F32);
    Files.writeString(
        d.resolve(HfCheckpoint.INDEX), "{\"weight_map\":{\"wte.weight\":\"../../etc/passwd\"}}");
    assertTrue(loadError(d).contains("inside the checkpoint directory"));
  }
}
