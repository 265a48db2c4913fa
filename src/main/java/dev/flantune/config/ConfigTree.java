package dev.flantune.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A run config as a YAML tree: the defaults (resources/defaults.yaml, the only place a default is
 * written) with the user's file and command-line {@code key=value} overrides merged on top.
 */
public final class ConfigTree {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /**
   * A resolved config as YAML: every key, defaults included, paths absolute. It loads back to the
   * same config from any directory, so a run directory's config.resolved.yaml is re-runnable.
   */
  public static String yaml(RunConfig cfg) {
    ObjectMapper m =
        new ObjectMapper(
                YAMLFactory.builder()
                    .disable(
                        com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature
                            .WRITE_DOC_START_MARKER)
                    .enable(
                        com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature.MINIMIZE_QUOTES)
                    .build())
            .setPropertyNamingStrategy(
                com.fasterxml.jackson.databind.PropertyNamingStrategies.SNAKE_CASE);
    var module = new com.fasterxml.jackson.databind.module.SimpleModule();
    module.addSerializer(
        java.nio.file.Path.class,
        new com.fasterxml.jackson.databind.ser.std.ToStringSerializer(java.nio.file.Path.class));
    module.addSerializer(
        Enum.class,
        new com.fasterxml.jackson.databind.ser.std.StdSerializer<Enum>(Enum.class) {
          @Override
          public void serialize(
              Enum value,
              com.fasterxml.jackson.core.JsonGenerator gen,
              com.fasterxml.jackson.databind.SerializerProvider provider)
              throws IOException {
            gen.writeString(value.name().toLowerCase(java.util.Locale.ROOT));
          }
        });
    m.registerModule(module);
    try {
      return m.writeValueAsString(cfg);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private ConfigTree() {}

  public static ObjectNode defaults() {
    try (InputStream in = ConfigTree.class.getResourceAsStream("/defaults.yaml")) {
      return (ObjectNode) YAML.readTree(in);
    } catch (IOException e) {
      throw new IllegalStateException("defaults.yaml missing from the build", e);
    }
  }

  /** Parses a YAML config file; a syntax error names the file and line. */
  public static ObjectNode read(Path file) {
    if (!Files.isRegularFile(file))
      throw FlanTuneException.badUsage(file + ": config file not found");
    JsonNode node;
    try {
      node = YAML.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      var loc = e.getLocation();
      throw FlanTuneException.badUsage(
          file
              + (loc == null ? "" : ":" + loc.getLineNr())
              + ": invalid YAML ("
              + e.getOriginalMessage().lines().findFirst().orElse("")
              + ")");
    } catch (IOException e) {
      throw FlanTuneException.badUsage(file + ": cannot read (" + e.getMessage() + ")");
    }
    if (node == null || node.isMissingNode() || node.isNull()) return YAML.createObjectNode();
    if (!node.isObject())
      throw FlanTuneException.badUsage(file + ": a config must be a YAML mapping of keys");
    return (ObjectNode) node;
  }

  /** Deep-merges {@code over} into {@code base} (maps merge, everything else replaces). */
  public static ObjectNode merge(ObjectNode base, JsonNode over) {
    for (Iterator<Map.Entry<String, JsonNode>> it = over.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode old = base.get(e.getKey());
      if (old instanceof ObjectNode o && e.getValue().isObject() && !isFreeMap(e.getKey())) {
        merge(o, e.getValue());
      } else {
        base.set(e.getKey(), e.getValue());
      }
    }
    return base;
  }

  /** Maps whose keys are the user's (cluster or task names), replaced whole rather than merged. */
  private static boolean isFreeMap(String key) {
    return key.equals("overlapping") || key.equals("weights");
  }

  /** Applies {@code a.b.c=value} overrides; values are parsed as YAML scalars or flow lists. */
  public static void override(ObjectNode root, List<String> assignments) {
    for (String a : assignments) {
      int eq = a.indexOf('=');
      if (eq <= 0)
        throw FlanTuneException.badUsage(
            "override '" + a + "' must look like key=value, e.g. train.lr=1e-4");
      String[] path = a.substring(0, eq).split("\\.");
      JsonNode value;
      try {
        value = YAML.readTree(a.substring(eq + 1).isEmpty() ? "''" : a.substring(eq + 1));
      } catch (IOException e) {
        throw FlanTuneException.badUsage("override '" + a + "': value is not valid YAML");
      }
      ObjectNode node = root;
      for (int i = 0; i < path.length - 1; i++) {
        JsonNode child = node.get(path[i]);
        if (!(child instanceof ObjectNode)) {
          child = node.putObject(path[i]);
        }
        node = (ObjectNode) child;
      }
      node.set(path[path.length - 1], value == null ? YAML.nullNode() : value);
    }
  }
}
