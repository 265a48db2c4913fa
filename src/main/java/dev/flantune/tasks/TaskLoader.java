package dev.flantune.tasks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads one {@code task.yaml} (format in ARCHITECTURE.md) into a {@link Task}. Unknown keys, wrong
 * types and bad templates are errors naming the file, the line and the key path (for example {@code
 * templates[3].input}). Templates are then checked against the first example of each split, so a
 * placeholder naming a missing field fails at load, not hours into training.
 */
public final class TaskLoader {
  public static final String TASK_YAML = "task.yaml";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> KEYS =
      Set.of(
          "name",
          "cluster",
          "kind",
          "metric",
          "options",
          "data",
          "source",
          "license",
          "templates",
          "format");
  private static final Set<String> TEMPLATE_KEYS = Set.of("input", "target", "turned");

  private final Path yaml;
  private final Map<String, Integer> lines;

  private TaskLoader(Path yaml, Map<String, Integer> lines) {
    this.yaml = yaml;
    this.lines = lines;
  }

  /**
   * Loads {@code dir/task.yaml} and checks its templates against the first example of each split.
   */
  public static Task load(Path dir) {
    Path yaml = dir.resolve(TASK_YAML);
    String text;
    try {
      text = Files.readString(yaml);
    } catch (IOException e) {
      throw FlanTuneException.badInput(yaml + ": cannot read (" + e.getMessage() + ")", e);
    }
    JsonNode root;
    Map<String, Integer> lines;
    try {
      // Scalars as typed: options: [yes, no] are two words, not two booleans (ScalarText).
      try (JsonParser p = YAML.getFactory().createParser(text)) {
        root = ScalarText.read(p);
      }
      lines = lineNumbers(text);
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          yaml + ": not valid YAML (" + SplitSource.firstLine(e.getMessage()) + ")", e);
    }
    if (root == null || !root.isObject())
      throw FlanTuneException.badInput(yaml + ":1: must be a YAML mapping of task keys");
    Task task = new TaskLoader(yaml, lines).task(dir, root);
    for (Path file : task.data().values()) {
      if (!Files.isRegularFile(file)) {
        throw FlanTuneException.badInput(
            yaml + ":" + lines.getOrDefault("/data", 1) + ": data: file " + file + " not found");
      }
    }
    for (Task.Split split : task.data().keySet()) task.split(split).first();
    return task;
  }

  /** JSON pointer of every key and value in the document → its 1-based line. */
  private static Map<String, Integer> lineNumbers(String text) throws IOException {
    Map<String, Integer> out = new HashMap<>();
    try (JsonParser p = YAML.getFactory().createParser(text)) {
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        String ptr = p.getParsingContext().pathAsPointer().toString();
        out.putIfAbsent(ptr, p.currentTokenLocation().getLineNr());
      }
    }
    return out;
  }

  private FlanTuneException error(String pointer, String message) {
    String key = pointer.substring(1).replaceAll("/(\\d+)(?=/|$)", "[$1]").replace('/', '.');
    return FlanTuneException.badInput(
        yaml + ":" + lines.getOrDefault(pointer, 1) + ": " + key + ": " + message);
  }

  private Task task(Path dir, JsonNode root) {
    for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYS.contains(k))
        throw error("/" + k, "unknown key; expected one of " + new java.util.TreeSet<>(KEYS));
    }
    // name: may be left out (the directory names the task); when given, the two must agree.
    String dirName = dir.toAbsolutePath().normalize().getFileName().toString();
    String name = string(root, "name", false);
    if (name == null) name = dirName;
    else if (!name.equals(dirName)) {
      throw error(
          "/name",
          "'"
              + name
              + "' must equal the directory name '"
              + dirName
              + "' (rename one, or leave name: out)");
    }
    String cluster = string(root, "cluster", true);
    if (!cluster.matches("[a-z0-9_]+"))
      throw error("/cluster", "'" + cluster + "' must be lower_snake_case");
    Task.Kind kind = choice(root, "kind", Task.Kind.values(), null);
    Task.Metric metric = choice(root, "metric", Task.Metric.values(), null);
    DataFormat format = choice(root, "format", DataFormat.values(), DataFormat.FLAN);
    List<String> options = options(root, kind);
    Map<Task.Split, Path> data = data(dir, root);
    String source = string(root, "source", true);
    String license = string(root, "license", true);
    List<Template> templates = templates(root, kind, format);
    return new Task(
        name, cluster, kind, metric, options, format, data, source, license, templates, yaml);
  }

  private String string(JsonNode root, String key, boolean required) {
    JsonNode v = root.get(key);
    if (v == null || v.isNull()) {
      if (required) throw error("/" + key, "missing");
      return null;
    }
    if (!v.isTextual() || v.textValue().isBlank())
      throw error("/" + key, "must be a non-empty string");
    return v.textValue();
  }

  private <E extends Enum<E>> E choice(JsonNode root, String key, E[] values, E fallback) {
    String s = string(root, key, fallback == null);
    if (s == null) return fallback;
    List<String> names = new ArrayList<>();
    for (E v : values) {
      String n = v.name().toLowerCase(Locale.ROOT);
      if (n.equals(s)) return v;
      names.add(n);
    }
    throw error("/" + key, "'" + s + "' is not one of " + names);
  }

  private List<String> options(JsonNode root, Task.Kind kind) {
    JsonNode v = root.get("options");
    if (v == null) return List.of();
    if (kind != Task.Kind.CLASSIFICATION)
      throw error("/options", "only classification tasks have options");
    if (!v.isArray() || v.size() < 2)
      throw error("/options", "must be a list of at least two options");
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      JsonNode o = v.get(i);
      if (!o.isTextual() || o.textValue().isBlank())
        throw error("/options/" + i, "must be a non-empty string");
      if (out.contains(o.textValue()))
        throw error("/options/" + i, "duplicate option '" + o.textValue() + "'");
      out.add(o.textValue());
    }
    return out;
  }

  private Map<Task.Split, Path> data(Path dir, JsonNode root) {
    JsonNode v = root.get("data");
    if (v == null || !v.isObject() || v.isEmpty())
      throw error("/data", "must map train and/or validation to files");
    Map<Task.Split, Path> out = new EnumMap<>(Task.Split.class);
    for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String ptr = "/data/" + e.getKey();
      Task.Split split;
      try {
        split = Task.Split.parse(e.getKey());
      } catch (IllegalArgumentException ex) {
        throw error(ptr, ex.getMessage());
      }
      if (!e.getValue().isTextual() || e.getValue().textValue().isBlank())
        throw error(ptr, "must be a file name");
      Path file = dir.resolve(e.getValue().textValue()).normalize();
      if (!file.startsWith(dir.normalize()))
        throw error(ptr, "must stay inside the task directory");
      out.put(split, file);
    }
    return out;
  }

  private List<Template> templates(JsonNode root, Task.Kind kind, DataFormat format) {
    JsonNode v = root.get("templates");
    if (v == null && !format.defaultTemplates().isEmpty()) return format.defaultTemplates();
    if (v == null || !v.isArray() || v.isEmpty())
      throw error("/templates", "must be a non-empty list of {input, target}");
    List<Template> out = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < v.size(); i++) {
      String ptr = "/templates/" + i;
      JsonNode t = v.get(i);
      if (!t.isObject()) throw error(ptr, "must be a mapping with input and target");
      for (Iterator<String> it = t.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (!TEMPLATE_KEYS.contains(k))
          throw error(ptr + "/" + k, "unknown key; expected input, target, turned");
      }
      boolean turned = flag(t, ptr + "/turned", "turned");
      Template tpl;
      try {
        tpl = Template.of(i, text(t, ptr, "input"), text(t, ptr, "target"), turned);
      } catch (IllegalArgumentException e) {
        String which = e.getMessage().startsWith("target") ? "target" : "input";
        throw error(
            ptr + "/" + which,
            "template "
                + i
                + " of task "
                + root.path("name").asText(yaml.getParent().getFileName().toString())
                + ": "
                + e.getMessage().substring(which.length() + 2));
      }
      if (!turned && !tpl.targetUsesAnswer()) {
        throw error(
            ptr + "/target",
            "template " + i + " must use {answer} in its target, or be marked turned: true");
      }
      if (tpl.uses(Template.OPTIONS) && kind != Task.Kind.CLASSIFICATION) {
        throw error(
            ptr, "template " + i + " uses {options_} but the task is not a classification task");
      }
      if (!seen.add(tpl.input() + "\u0000" + tpl.target()))
        throw error(ptr, "template " + i + " repeats an earlier one");
      out.add(tpl);
    }
    return out;
  }

  /** A true/false key; scalars arrive as text (see ScalarText), so the words are matched here. */
  private boolean flag(JsonNode t, String ptr, String key) {
    JsonNode v = t.get(key);
    if (v == null || v.isNull()) return false;
    String s = v.isTextual() ? v.textValue() : "";
    if (s.equals("true") || s.equals("True") || s.equals("TRUE")) return true;
    if (s.equals("false") || s.equals("False") || s.equals("FALSE")) return false;
    throw error(ptr, "must be true or false");
  }

  private String text(JsonNode t, String ptr, String key) {
    JsonNode v = t.get(key);
    if (v == null) throw error(ptr + "/" + key, "missing");
    if (!v.isTextual()) throw error(ptr + "/" + key, "must be a string");
    return v.textValue();
  }
}
