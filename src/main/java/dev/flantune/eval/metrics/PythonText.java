package dev.flantune.eval.metrics;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The few Python 3 string semantics that the reference metrics are defined by. Java's own notions
 * differ: {@code Character.isWhitespace} excludes U+00A0 and U+2007 that {@code str.isspace}
 * includes, and {@code String.split("\\s+")} knows only ASCII whitespace. A test checks each
 * predicate on every code point against tables written by Python.
 */
public final class PythonText {
  private PythonText() {}

  /** Python's {@code str.isspace()} for one code point (Unicode White_Space plus U+001C–U+001F). */
  public static boolean isSpace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D)
        || (cp >= 0x1C && cp <= 0x20)
        || cp == 0x85
        || cp == 0xA0
        || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A)
        || cp == 0x2028
        || cp == 0x2029
        || cp == 0x202F
        || cp == 0x205F
        || cp == 0x3000;
  }

  /**
   * Whether Python's regex {@code \w} matches the code point: letters (L*), numbers (Nd, Nl, No)
   * and the underscore. Java's {@code \w} with UNICODE_CHARACTER_CLASS also takes combining marks,
   * so {@code \b} is not Python's either; callers test boundaries with this instead.
   */
  public static boolean isWordChar(int cp) {
    if (cp == '_' || Character.isLetter(cp)) return true;
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER
        || type == Character.LETTER_NUMBER
        || type == Character.OTHER_NUMBER;
  }

  /** {@code str.lower()}: full Unicode lowercasing, independent of the default locale. */
  public static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /** {@code str.split()} with no argument: runs of Python whitespace separate, no empty parts. */
  public static List<String> split(String s) {
    List<String> out = new ArrayList<>();
    int i = 0, n = s.length();
    while (i < n) {
      while (i < n && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
      int start = i;
      while (i < n && !isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
      if (i > start) out.add(s.substring(start, i));
    }
    return out;
  }

  /** {@code str.rstrip()}: trailing Python whitespace removed. */
  public static String rstrip(String s) {
    int end = s.length();
    while (end > 0 && isSpace(s.codePointBefore(end)))
      end -= Character.charCount(s.codePointBefore(end));
    return s.substring(0, end);
  }
}
