package dev.flantune.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import java.lang.reflect.Constructor;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a YAML tree into a {@link RunConfig}, checking every key against the records: unknown keys
 * (with a suggestion for near misses) and wrong types are collected, then the semantic problems,
 * and all are reported in one error.
 */
public final class ConfigLoader {
  private final Path baseDir;
  private final List<String> errors = new ArrayList<>();

  private ConfigLoader(Path baseDir) {
    this.baseDir = baseDir;
  }

  /** Loads {@code file} over the defaults, with {@code key=value} overrides applied last. */
  public static RunConfig load(Path file, List<String> overrides) {
    ObjectNode tree = resolvedTree(file, overrides);
    Path base = file.toAbsolutePath().getParent();
    return fromTree(tree, base, file.toString());
  }

  /** The merged tree (defaults ← file ← overrides), before conversion. */
  public static ObjectNode resolvedTree(Path file, List<String> overrides) {
    ObjectNode tree = ConfigTree.merge(ConfigTree.defaults(), ConfigTree.read(file));
    ConfigTree.override(tree, overrides);
    return tree;
  }

  public static RunConfig fromTree(ObjectNode tree, Path baseDir, String where) {
    ConfigLoader l = new ConfigLoader(baseDir);
    RunConfig c = (RunConfig) l.record(RunConfig.class, tree, "");
    if (l.errors.isEmpty()) l.errors.addAll(c.problems());
    if (!l.errors.isEmpty()) {
      throw FlanTuneException.badUsage(where + ": " + String.join("; ", l.errors));
    }
    return c;
  }

  /** The YAML key of a record component: camelCase → snake_case. */
  static String key(String component) {
    return component.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  private Object record(Class<?> type, JsonNode node, String path) {
    RecordComponent[] comps = type.getRecordComponents();
    Map<String, RecordComponent> byKey = new LinkedHashMap<>();
    for (RecordComponent c : comps) byKey.put(key(c.getName()), c);
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!byKey.containsKey(k)) {
        String near = nearest(k, byKey.keySet());
        errors.add(
            path
                + k
                + ": unknown key"
                + (near == null
                    ? " (known: " + String.join(", ", byKey.keySet()) + ")"
                    : " (did you mean " + path + near + "?)"));
      }
    }
    Object[] args = new Object[comps.length];
    Class<?>[] types = new Class<?>[comps.length];
    for (int i = 0; i < comps.length; i++) {
      types[i] = comps[i].getType();
      String k = key(comps[i].getName());
      args[i] = value(comps[i].getGenericType(), node.get(k), path + k);
    }
    if (!errors.isEmpty()) return null;
    try {
      Constructor<?> ctor = type.getDeclaredConstructor(types);
      return ctor.newInstance(args);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private Object value(Type type, JsonNode n, String path) {
    boolean absent = n == null || n.isNull();
    Class<?> raw =
        type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    if (absent) {
      if (raw.isPrimitive()) errors.add(path + ": required");
      return raw == List.class ? List.of() : raw == Map.class ? Map.of() : null;
    }
    if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
      if (!n.isIntegralNumber()) return typeError(path, "an integer", n);
      return raw == int.class || raw == Integer.class ? (Object) n.asInt() : (Object) n.asLong();
    }
    if (raw == double.class || raw == Double.class)
      return n.isNumber() ? n.asDouble() : typeError(path, "a number", n);
    if (raw == boolean.class || raw == Boolean.class)
      return n.isBoolean() ? n.asBoolean() : typeError(path, "true or false", n);
    if (raw == String.class) return n.isTextual() ? n.asText() : typeError(path, "a string", n);
    if (raw == Path.class)
      return n.isTextual() ? baseDir.resolve(n.asText()).normalize() : typeError(path, "a path", n);
    if (raw.isEnum()) {
      if (n.isTextual()) {
        for (Object c : raw.getEnumConstants()) {
          if (c.toString().equalsIgnoreCase(n.asText())) return c;
        }
      }
      List<String> names = new ArrayList<>();
      for (Object c : raw.getEnumConstants()) names.add(c.toString().toLowerCase(Locale.ROOT));
      return typeError(path, "one of " + String.join(" | ", names), n);
    }
    if (raw == List.class) {
      Type elem = ((ParameterizedType) type).getActualTypeArguments()[0];
      if (n.isTextual() && elem == String.class) return List.of(n.asText()); // one item
      if (n.isIntegralNumber() && elem == Integer.class) return List.of(n.asInt()); // one item
      if (!n.isArray()) return typeError(path, "a list", n);
      List<Object> out = new ArrayList<>();
      for (int i = 0; i < n.size(); i++) out.add(value(elem, n.get(i), path + "[" + i + "]"));
      return List.copyOf(out);
    }
    if (raw == Map.class) {
      Type elem = ((ParameterizedType) type).getActualTypeArguments()[1];
      if (!n.isObject()) return typeError(path, "a mapping", n);
      Map<String, Object> out = new LinkedHashMap<>();
      n.fields()
          .forEachRemaining(
              e -> out.put(e.getKey(), value(elem, e.getValue(), path + "." + e.getKey())));
      return java.util.Collections.unmodifiableMap(out);
    }
    if (raw.isRecord()) {
      if (!n.isObject()) return typeError(path, "a mapping", n);
      return record(raw, n, path + ".");
    }
    throw new IllegalStateException("config type " + type);
  }

  private Object typeError(String path, String expected, JsonNode got) {
    errors.add(
        path
            + ": expected "
            + expected
            + ", got "
            + (got.isTextual() ? "'" + got.asText() + "'" : got.toString()));
    return null;
  }

  /** The known key closest to {@code k} by edit distance, if it is a plausible typo. */
  static String nearest(String k, Iterable<String> known) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String c : known) {
      int d = distance(k, c);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return bestD <= Math.max(2, k.length() / 3) ? best : null;
  }

  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
