package dev.flantune.chat;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON text exactly as Python's {@code json.dumps(x, ensure_ascii=False, indent=…, separators=…,
 * sort_keys=…)} writes it, which is what transformers' {@code tojson} filter calls: {@code ", "}
 * and {@code ": "} between items (or {@code ","} and newlines when indented), non-ASCII kept as is,
 * control characters as backslash-u00XX, floats as Python's {@code repr} ({@code 2.0}, {@code
 * 3e-07}, {@code 1e+16}). Also converts parsed JSON into the plain maps and lists the template
 * sees.
 */
final class PyJson {
  private final String indent;
  private final String itemSeparator;
  private final String keySeparator;
  private final boolean sortKeys;

  /** {@code indent} null for one line; separators null for Python's defaults. */
  PyJson(Integer indent, String itemSeparator, String keySeparator, boolean sortKeys) {
    this.indent = indent == null ? null : " ".repeat(Math.max(indent, 0));
    this.itemSeparator = itemSeparator != null ? itemSeparator : indent == null ? ", " : ",";
    this.keySeparator = keySeparator != null ? keySeparator : ": ";
    this.sortKeys = sortKeys;
  }

  static String dumps(Object value) {
    return new PyJson(null, null, null, false).write(value);
  }

  String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(value, 0, out);
    return out.toString();
  }

  private void write(Object v, int depth, StringBuilder out) {
    if (v == null) out.append("null");
    else if (v instanceof Boolean b) out.append(b ? "true" : "false");
    else if (v instanceof CharSequence s) string(s.toString(), out);
    else if (v instanceof Double || v instanceof Float)
      out.append(floatRepr(((Number) v).doubleValue()));
    else if (v instanceof BigDecimal d) out.append(floatRepr(d.doubleValue()));
    else if (v instanceof Number n)
      out.append(n instanceof BigInteger ? n.toString() : Long.toString(n.longValue()));
    else if (v instanceof Map<?, ?> m) object(m, depth, out);
    else if (v instanceof Iterable<?> it) array(it, depth, out);
    else {
      throw new IllegalArgumentException(
          "tojson: a " + v.getClass().getSimpleName() + " is not JSON serializable");
    }
  }

  private void object(Map<?, ?> map, int depth, StringBuilder out) {
    if (map.isEmpty()) {
      out.append("{}");
      return;
    }
    Map<?, ?> entries = sortKeys ? new TreeMap<>(stringKeys(map)) : map;
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : entries.entrySet()) {
      if (!first) out.append(itemSeparator);
      first = false;
      newline(depth + 1, out);
      string(String.valueOf(e.getKey()), out);
      out.append(keySeparator);
      write(e.getValue(), depth + 1, out);
    }
    newline(depth, out);
    out.append('}');
  }

  private static Map<String, Object> stringKeys(Map<?, ?> map) {
    Map<String, Object> keyed = new LinkedHashMap<>();
    map.forEach((k, v) -> keyed.put(String.valueOf(k), v));
    return keyed;
  }

  private void array(Iterable<?> items, int depth, StringBuilder out) {
    Iterator<?> it = items.iterator();
    if (!it.hasNext()) {
      out.append("[]");
      return;
    }
    out.append('[');
    boolean first = true;
    while (it.hasNext()) {
      if (!first) out.append(itemSeparator);
      first = false;
      newline(depth + 1, out);
      write(it.next(), depth + 1, out);
    }
    newline(depth, out);
    out.append(']');
  }

  private void newline(int depth, StringBuilder out) {
    if (indent != null) out.append('\n').append(indent.repeat(depth));
  }

  private static void string(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
          else out.append(c);
        }
      }
    }
    out.append('"');
  }

  /** Python's {@code repr(float)}: shortest round-trip digits, exponent form outside 1e-4..1e16. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) return "NaN";
    if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
    if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
    BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
    String digits = exact.unscaledValue().abs().toString();
    int exponent = digits.length() - 1 - exact.scale(); // d = digits[0].digits[1:] * 10^exponent
    String sign = d < 0 ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
      String mantissa =
          digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
      return sign
          + mantissa
          + "e"
          + (exponent < 0 ? "-" : "+")
          + String.format("%02d", Math.abs(exponent));
    }
    String plain = exact.abs().toPlainString();
    return sign + (plain.contains(".") ? plain : plain + ".0");
  }

  /** Parsed JSON as the template sees it: maps in file order, lists, strings, numbers, null. */
  static Object fromJson(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) return null;
    if (node.isTextual()) return node.textValue();
    if (node.isBoolean()) return node.booleanValue();
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isNumber()) return node.doubleValue();
    if (node.isArray()) {
      List<Object> list = new ArrayList<>();
      node.forEach(item -> list.add(fromJson(item)));
      return list;
    }
    Map<String, Object> map = new LinkedHashMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), fromJson(e.getValue())));
    return map;
  }
}
