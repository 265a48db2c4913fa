package dev.flantune.model.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.checkpoint.ArraySource;
import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.Safetensors;
import dev.flantune.model.CausalLm;
import dev.flantune.model.ModelConfig;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A LoRA adapter on disk in Hugging Face PEFT's layout, which PEFT, vLLM and llama.cpp's converters
 * read: {@code adapter_config.json} and {@code adapter_model.safetensors}. Reading checks every
 * field flan-tune relies on and every tensor's name and shape against the base model; each problem
 * is one line naming the file and the fix.
 */
public final class AdapterFiles {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private AdapterFiles() {}

  /** Whether {@code dir} holds an adapter (rather than a full checkpoint). */
  public static boolean isAdapter(Path dir) {
    return Files.isRegularFile(dir.resolve(CONFIG));
  }

  /** adapter_config.json's base_model_name_or_path, or null. */
  public static String baseModelOf(Path dir) {
    JsonNode n = readConfig(dir.resolve(CONFIG)).get("base_model_name_or_path");
    return n == null || n.isNull() ? null : n.asText();
  }

  /** Writes the adapter's two files into {@code dir} (created if needed), weights as F32. */
  public static void save(LoraAdapter adapter, Path dir, ModelConfig base) throws IOException {
    Files.createDirectories(dir);
    Map<String, ArraySource> tensors = new LinkedHashMap<>();
    for (LoraAdapter.Module m : adapter.modules()) {
      tensors.put(m.aName(), new ArraySource(adapter.a(m)));
      tensors.put(m.bName(), new ArraySource(adapter.b(m)));
    }
    Safetensors.write(dir.resolve(WEIGHTS), tensors, DType.F32, Map.of("format", "pt"));
    JSON.writeValue(dir.resolve(CONFIG).toFile(), config(adapter, base));
  }

  /** adapter_config.json as PEFT writes it: the fields it reads, defaults filled in. */
  static ObjectNode config(LoraAdapter adapter, ModelConfig base) {
    LoraSpec s = adapter.spec();
    ObjectNode c = JSON.createObjectNode();
    c.putObject("alpha_pattern");
    c.putNull("auto_mapping");
    if (adapter.baseModel() == null) c.putNull("base_model_name_or_path");
    else c.put("base_model_name_or_path", adapter.baseModel());
    c.put("bias", "none");
    c.put("fan_in_fan_out", base.layout() == ModelConfig.Layout.CONV1D);
    c.put("inference_mode", true);
    c.put("init_lora_weights", true);
    c.putNull("layers_pattern");
    c.putNull("layers_to_transform");
    if (s.alpha() == Math.rint(s.alpha())) c.put("lora_alpha", (long) s.alpha());
    else c.put("lora_alpha", s.alpha());
    c.put("lora_dropout", s.dropout());
    c.putNull("modules_to_save");
    c.put("peft_type", "LORA");
    c.put("r", s.r());
    c.putObject("rank_pattern");
    c.putNull("revision");
    if (s.allLinear()) c.put("target_modules", LoraSpec.ALL_LINEAR);
    else {
      ArrayNode t = c.putArray("target_modules");
      s.targetModules().forEach(t::add);
    }
    c.put("task_type", "CAUSAL_LM");
    c.put("use_dora", false);
    c.put("use_rslora", s.rslora());
    return c;
  }

  /**
   * Reads the adapter in {@code dir} for {@code base}: its config, then every tensor, checked by
   * name and shape against the modules the config targets on that base.
   */
  public static LoraAdapter load(Path dir, CausalLm base) {
    Path cfgFile = dir.resolve(CONFIG), weights = dir.resolve(WEIGHTS);
    if (!Files.isDirectory(dir))
      throw FlanTuneException.badInput(dir + ": adapter directory not found");
    if (!Files.isRegularFile(cfgFile))
      throw FlanTuneException.badInput(
          cfgFile
              + ": missing; an adapter directory holds adapter_config.json and"
              + " adapter_model.safetensors (Hugging Face PEFT's layout)");
    LoraSpec spec = readSpec(cfgFile);
    String baseName = readConfig(cfgFile).path("base_model_name_or_path").asText(null);
    List<LoraAdapter.Module> modules;
    try {
      modules = LoraAdapter.targets(base.config(), base.table(), spec, "target_modules");
    } catch (FlanTuneException e) {
      throw FlanTuneException.badInput(cfgFile + ": " + e.getMessage());
    }
    if (!Files.isRegularFile(weights))
      throw FlanTuneException.badInput(
          weights + ": missing; the adapter's weights belong beside adapter_config.json");
    Safetensors.Header header = Safetensors.readHeader(weights);
    LoraAdapter adapter =
        new LoraAdapter(spec, modules, LoraAdapter.emptyBuffer(spec, modules), baseName);
    TreeSet<String> unexpected = new TreeSet<>(header.entries().keySet());
    for (LoraAdapter.Module m : modules) {
      for (String name : List.of(m.aName(), m.bName())) {
        INDArray view = adapter.parameters().views().get(name);
        Safetensors.Entry e = header.entries().get(name);
        if (e == null)
          throw FlanTuneException.badInput(
              weights
                  + ": no tensor "
                  + name
                  + ", which target_modules "
                  + spec.targetModules()
                  + " needs on this base; the adapter was made for another model or config");
        if (!e.dtype().isFloat() || !Arrays.equals(e.shape(), view.shape()))
          throw FlanTuneException.badInput(
              weights
                  + ": "
                  + name
                  + " is "
                  + e.dtype()
                  + " "
                  + Arrays.toString(e.shape())
                  + " but this base needs a float tensor "
                  + Arrays.toString(view.shape())
                  + " (r = "
                  + spec.r()
                  + "); the adapter was made for another model");
        FloatBuffer dst = adapter.parameters().flat().data().asNioFloat();
        Safetensors.readFloatsInto(
            weights, header.dataStart(), e, dst, Math.toIntExact(view.offset()));
        unexpected.remove(name);
      }
    }
    if (!unexpected.isEmpty())
      throw FlanTuneException.badInput(
          weights
              + ": tensor "
              + unexpected.first()
              + " is not a LoRA matrix of a module that target_modules "
              + spec.targetModules()
              + " names on this base ("
              + unexpected.size()
              + " such tensors); flan-tune reads plain LoRA adapters");
    return adapter;
  }

  private static JsonNode readConfig(Path file) {
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (!n.isObject()) throw FlanTuneException.badInput(file + ": must be a JSON object");
      return n;
    } catch (IOException e) {
      String m = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      throw FlanTuneException.badInput(file + ": not valid JSON (" + m + ")");
    }
  }

  /** The adapter's {@link LoraSpec}; refuses what flan-tune does not implement, naming the key. */
  static LoraSpec readSpec(Path file) {
    JsonNode c = readConfig(file);
    String type = c.path("peft_type").asText("");
    if (!type.equals("LORA"))
      throw bad(file, "peft_type", "is '" + type + "'; flan-tune reads LORA adapters");
    if (c.hasNonNull("task_type") && !c.get("task_type").asText().equals("CAUSAL_LM"))
      throw bad(file, "task_type", "is '" + c.get("task_type").asText() + "', not CAUSAL_LM");
    if (!c.path("r").isIntegralNumber() || c.get("r").asInt() <= 0)
      throw bad(file, "r", "must be a positive integer");
    if (!c.path("lora_alpha").isNumber() || !(c.get("lora_alpha").asDouble() > 0))
      throw bad(file, "lora_alpha", "must be a positive number");
    String bias = c.path("bias").asText("none");
    if (!bias.equals("none"))
      throw bad(file, "bias", "is '" + bias + "'; only 'none' (frozen biases) is supported");
    if (c.path("use_dora").asBoolean(false)) throw bad(file, "use_dora", "DoRA is not supported");
    for (String key :
        List.of("rank_pattern", "alpha_pattern", "layers_to_transform", "modules_to_save")) {
      JsonNode v = c.get(key);
      if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty()))
        throw bad(file, key, "is set; per-layer patterns and saved modules are not supported");
    }
    JsonNode t = c.get("target_modules");
    List<String> targets = new ArrayList<>();
    if (t != null && t.isTextual()) targets.add(t.asText());
    else if (t != null && t.isArray()) t.forEach(x -> targets.add(x.asText()));
    else throw bad(file, "target_modules", "must be a list of module names or a string");
    double dropout = c.path("lora_dropout").asDouble(0);
    LoraSpec spec =
        new LoraSpec(
            c.get("r").asInt(),
            c.get("lora_alpha").asDouble(),
            dropout,
            targets,
            c.path("use_rslora").asBoolean(false));
    List<String> problems = spec.problems("");
    if (!problems.isEmpty()) throw FlanTuneException.badInput(file + ": " + problems.get(0));
    return spec;
  }

  private static FlanTuneException bad(Path file, String key, String what) {
    return FlanTuneException.badInput(file + ": " + key + " " + what);
  }
}
