package dev.flantune.eval.metrics;

import java.util.regex.Pattern;

/**
 * sacrebleu's default "13a" tokenizer (mteval-v13a.pl as used by WMT): splits off punctuation and
 * symbols, keeps periods and commas inside numbers, splits a dash that follows a digit. It is
 * case-preserving. Output tokens are joined by single spaces.
 */
public final class Tokenizer13a {
  // The four rules in order; Java's replaceAll scans left to right without overlap, as re.sub does.
  private static final Pattern SYMBOLS =
      Pattern.compile("([\\{-\\~\\[-\\` -\\&\\(-\\+\\:-\\@\\/])");
  private static final Pattern PERIOD_COMMA_AFTER_NON_DIGIT = Pattern.compile("([^0-9])([\\.,])");
  private static final Pattern PERIOD_COMMA_BEFORE_NON_DIGIT = Pattern.compile("([\\.,])([^0-9])");
  private static final Pattern DASH_AFTER_DIGIT = Pattern.compile("([0-9])(-)");

  private Tokenizer13a() {}

  public static String tokenize(String line) {
    line = line.replace("<skipped>", "");
    line = line.replace("-\n", ""); // a word hyphenated across lines is joined
    line = line.replace("\n", " ");
    line = line.replace("&quot;", "\"");
    line = line.replace("&amp;", "&");
    line = line.replace("&lt;", "<");
    line = line.replace("&gt;", ">");
    line = " " + line + " ";
    line = SYMBOLS.matcher(line).replaceAll(" $1 ");
    line = PERIOD_COMMA_AFTER_NON_DIGIT.matcher(line).replaceAll("$1 $2 ");
    line = PERIOD_COMMA_BEFORE_NON_DIGIT.matcher(line).replaceAll(" $1 $2");
    line = DASH_AFTER_DIGIT.matcher(line).replaceAll("$1 $2 ");
    return String.join(" ", PythonText.split(line));
  }
}
