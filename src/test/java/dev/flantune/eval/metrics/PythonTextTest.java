package dev.flantune.eval.metrics;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * The Python string semantics the metrics rely on, checked on every Unicode code point against
 * tables Python wrote. Code points that Java's older Unicode tables do not define yet are skipped
 * (Java 17 has Unicode 13, the fixture's Python 14); there must be few of them.
 */
class PythonTextTest {
  static JsonNode semantics() throws IOException {
    return MetricsReferenceTest.root().get("python_semantics");
  }

  @Test
  void isSpaceEqualsStrIsspaceEverywhere() throws IOException {
    assertEqualOnAllCodePoints(semantics().get("isspace_ranges"), PythonText::isSpace, "isspace");
  }

  @Test
  void isWordCharEqualsRegexWordEverywhere() throws IOException {
    assertEqualOnAllCodePoints(semantics().get("word_ranges"), PythonText::isWordChar, "\\w");
  }

  @Test
  void lowerEqualsStrLowerOnEveryCodePoint() throws IOException {
    JsonNode lower = semantics().get("lower");
    int skipped = 0, changed = 0;
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      JsonNode want = lower.get(Integer.toString(cp));
      String got = PythonText.lower(new String(Character.toChars(cp)));
      if (!Character.isDefined(cp)) {
        if (want != null) skipped++; // Python lowercases a letter Java's Unicode lacks
        continue;
      }
      String expected = want == null ? new String(Character.toChars(cp)) : codePoints(want);
      assertEquals(expected, got, "lower of U+" + Integer.toHexString(cp));
      if (want != null) changed++;
    }
    assertTrue(changed > 1000, "table too small: " + changed);
    assertTrue(
        skipped <= 50, "lowercase letters unknown to Java: " + skipped); // 40 new in Unicode 14
  }

  @Test
  void splitAndRstripUsePythonWhitespace() {
    assertEquals(List.of("a", "b", "c"), PythonText.split("\u00a0a\u2007\tb\u3000c\u001c"));
    assertEquals(List.of(), PythonText.split(" \n\u0085 "));
    assertEquals("x\u200b", PythonText.rstrip("x\u200b \u00a0\n")); // U+200B is not whitespace
  }

  private static String codePoints(JsonNode array) {
    StringBuilder sb = new StringBuilder();
    array.forEach(n -> sb.appendCodePoint(n.asInt()));
    return sb.toString();
  }

  private static void assertEqualOnAllCodePoints(
      JsonNode ranges, IntPredicate javaSide, String what) {
    boolean[] python = new boolean[Character.MAX_CODE_POINT + 1];
    for (JsonNode r : ranges)
      for (int cp = r.get(0).asInt(); cp <= r.get(1).asInt(); cp++) python[cp] = true;
    int mismatches = 0;
    StringBuilder first = new StringBuilder();
    for (int cp = 0; cp <= Character.MAX_CODE_POINT; cp++) {
      if (!Character.isDefined(cp)) continue; // not assigned in Java's Unicode version
      if (python[cp] != javaSide.test(cp)) {
        if (mismatches++ < 10) first.append(String.format(" U+%04X(py=%s)", cp, python[cp]));
      }
    }
    assertEquals(0, mismatches, what + " differs from Python at" + first);
  }
}
