package dev.flantune.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ParamTable;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A model family: how a Hugging Face {@code config.json} maps onto a {@link ModelConfig}, and the
 * names and shapes of its tensors ({@link ParamTable}). A new family is one small class here; the
 * engines need nothing more.
 */
public interface Family {
  /** The {@code model_type} values this family reads. */
  List<String> modelTypes();

  /** The neutral description of a config.json of this family; one-line errors name the key. */
  ModelConfig read(Path file, ObjectNode json);

  /** Every parameter of a model of this family. */
  ParamTable table(ModelConfig config);

  /**
   * What Hugging Face's model class puts before a tensor's table name in its module path (GPT-2:
   * "transformer."; the table names its tensors without it). LoRA adapters name modules by path.
   */
  default String modulePrefix() {
    return "";
  }

  List<Family> ALL = List.of(new Gpt2Family(), new LlamaFamily());

  ObjectMapper JSON = new ObjectMapper();

  /** The family of a config's model_type. */
  static Family of(ModelConfig config) {
    return forType(config.modelType(), null);
  }

  private static Family forType(String type, Path file) {
    for (Family f : ALL) if (f.modelTypes().contains(type)) return f;
    StringBuilder supported = new StringBuilder();
    for (Family f : ALL) {
      for (String t : f.modelTypes())
        supported.append(supported.length() == 0 ? "" : ", ").append(t);
    }
    throw FlanTuneException.badInput(
        (file == null ? "" : file + ": ")
            + "model_type '"
            + type
            + "' is not supported; flan-tune supports "
            + supported);
  }

  /** Reads and validates a checkpoint's config.json. */
  static ModelConfig readConfig(Path file) {
    if (!Files.isRegularFile(file)) {
      throw FlanTuneException.badInput(
          file + ": missing; a Hugging Face checkpoint needs config.json");
    }
    JsonNode node;
    try {
      node = JSON.readTree(file.toFile());
    } catch (IOException e) {
      String m = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
      throw FlanTuneException.badInput(file + ": not valid JSON (" + m + ")");
    }
    if (!(node instanceof ObjectNode obj)) {
      throw FlanTuneException.badInput(file + ": must be a JSON object");
    }
    return read(obj, file);
  }

  /** The description of a config.json already parsed ({@code origin} names it in errors). */
  static ModelConfig read(ObjectNode obj, Path origin) {
    // GPT-2 files written before model_type existed are still GPT-2.
    String type = obj.path("model_type").isTextual() ? obj.get("model_type").asText() : "gpt2";
    return forType(type, origin).read(origin, obj);
  }

  /** The parameter table of a config. */
  static ParamTable tableOf(ModelConfig config) {
    return of(config).table(config);
  }
}
