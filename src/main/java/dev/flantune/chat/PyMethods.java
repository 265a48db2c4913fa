package dev.flantune.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The Python {@code str} and {@code dict} methods chat templates call ({@code
 * content.startswith('…')}, {@code content.strip()}, {@code tool.items()}, …), with Python's
 * semantics: {@code split()} without a separator splits on runs of whitespace, {@code strip()}
 * strips Unicode whitespace, {@code startswith} takes a string or a list of them. Any other method
 * stops the render with an error naming it.
 */
final class PyMethods {
  private PyMethods() {}

  static Object str(String s, String method, Object[] args) {
    switch (method) {
      case "startswith", "endswith" -> {
        arity(method, args, 1, 1);
        List<String> affixes =
            args[0] instanceof List<?> l
                ? l.stream().map(String::valueOf).toList()
                : List.of(text(args[0]));
        for (String a : affixes) {
          if (method.equals("startswith") ? s.startsWith(a) : s.endsWith(a)) return true;
        }
        return false;
      }
      case "strip", "lstrip", "rstrip" -> {
        arity(method, args, 0, 1);
        String chars = args.length == 0 || args[0] == null ? null : text(args[0]);
        return strip(s, chars, !method.equals("rstrip"), !method.equals("lstrip"));
      }
      case "split" -> {
        arity(method, args, 0, 2);
        String sep = args.length == 0 || args[0] == null ? null : text(args[0]);
        int max = args.length < 2 ? -1 : ((Number) args[1]).intValue();
        return split(s, sep, max);
      }
      case "upper" -> {
        return s.toUpperCase(java.util.Locale.ROOT);
      }
      case "lower" -> {
        return s.toLowerCase(java.util.Locale.ROOT);
      }
      case "capitalize" -> {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase() + s.substring(1).toLowerCase();
      }
      case "replace" -> {
        arity(method, args, 2, 2);
        return s.replace(text(args[0]), text(args[1]));
      }
      case "find" -> {
        arity(method, args, 1, 1);
        return (long) s.indexOf(text(args[0]));
      }
      case "count" -> {
        arity(method, args, 1, 1);
        String needle = text(args[0]);
        if (needle.isEmpty()) return (long) s.length() + 1;
        long n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) n++;
        return n;
      }
      case "join" -> {
        arity(method, args, 1, 1);
        List<String> parts = new ArrayList<>();
        for (Object o : (Iterable<?>) args[0]) parts.add(text(o));
        return String.join(s, parts);
      }
      case "splitlines" -> {
        return new ArrayList<>(s.lines().toList());
      }
      case "isspace" -> {
        return !s.isEmpty() && s.chars().allMatch(PyMethods::isSpace);
      }
      case "isdigit" -> {
        return !s.isEmpty() && s.chars().allMatch(Character::isDigit);
      }
      default -> {
        RenderGuard.current().trip("the str method '" + method + "()' is not supported");
        return null;
      }
    }
  }

  static Object dict(Map<?, ?> m, String method, Object[] args) {
    switch (method) {
      case "items" -> {
        List<Object> items = new ArrayList<>();
        m.forEach((k, v) -> items.add(new ArrayList<>(java.util.Arrays.asList(k, v))));
        return items;
      }
      case "keys" -> {
        return new ArrayList<>(m.keySet());
      }
      case "values" -> {
        return new ArrayList<>(m.values());
      }
      case "get" -> {
        arity(method, args, 1, 2);
        Object v = m.get(args[0]);
        return v != null || m.containsKey(args[0]) ? v : args.length > 1 ? args[1] : null;
      }
      default -> {
        RenderGuard.current().trip("the dict method '" + method + "()' is not supported");
        return null;
      }
    }
  }

  static String typeName(Object o) {
    if (o instanceof String) return "str";
    if (o instanceof Map) return "dict";
    if (o instanceof List) return "list";
    if (o instanceof Boolean) return "bool";
    if (o instanceof Long || o instanceof Integer) return "int";
    if (o instanceof Number) return "float";
    return "Java object";
  }

  private static void arity(String method, Object[] args, int min, int max) {
    if (args.length < min || args.length > max) {
      RenderGuard.current()
          .trip(
              "'"
                  + method
                  + "()' takes "
                  + min
                  + (max > min ? "-" + max : "")
                  + " arguments, got "
                  + args.length);
    }
  }

  private static String text(Object o) {
    return o == null ? "None" : o.toString();
  }

  private static boolean isSpace(int c) {
    return Character.isWhitespace(c)
        || Character.isSpaceChar(c)
        || c == 0x1c
        || c == 0x1d
        || c == 0x1e
        || c == 0x1f
        || c == 0x85;
  }

  private static String strip(String s, String chars, boolean left, boolean right) {
    int from = 0;
    int to = s.length();
    while (left && from < to && strippable(s.charAt(from), chars)) from++;
    while (right && to > from && strippable(s.charAt(to - 1), chars)) to--;
    return s.substring(from, to);
  }

  private static boolean strippable(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }

  private static List<String> split(String s, String sep, int max) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && isSpace(s.charAt(i))) i++;
        if (i >= n) break;
        if (max >= 0 && parts.size() == max) {
          parts.add(strip(s.substring(i), null, false, true));
          break;
        }
        int j = i;
        while (j < n && !isSpace(s.charAt(j))) j++;
        parts.add(s.substring(i, j));
        i = j;
      }
      return parts;
    }
    if (sep.isEmpty()) RenderGuard.current().trip("'split()': empty separator");
    int from = 0;
    for (int at = s.indexOf(sep);
        at >= 0 && (max < 0 || parts.size() < max);
        at = s.indexOf(sep, from)) {
      parts.add(s.substring(from, at));
      from = at + sep.length();
    }
    parts.add(s.substring(from));
    return parts;
  }
}
