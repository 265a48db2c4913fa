package dev.flantune.selfinstruct;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The paper's cheap instruction filters, in the order they are checked (the first failing one is
 * the reason counted): length in words, first character (punctuation, or not ASCII: the paper's
 * "non-English" test), keywords a text-only model cannot serve, and exact or whitespace-normalized
 * duplicates of an instruction already in the pool. ROUGE-L similarity is {@link RougePool}'s.
 */
public final class InstructionFilter {
  /** Self-Instruct keeps instructions of more than 3 and at most 150 words. */
  public static final int MIN_WORDS = 4, MAX_WORDS = 150;

  /** Python's string.punctuation, the paper's set. */
  static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

  /**
   * Things a text model cannot see, make or do (the list, plus plurals), and the paper's
   * "write a program" drift; matched as whole words, ignoring case.
   */
  static final List<String> BLACKLIST =
      List.of(
          "image",
          "images",
          "picture",
          "pictures",
          "photo",
          "photos",
          "graph",
          "graphs",
          "file",
          "files",
          "map",
          "maps",
          "draw",
          "drawing",
          "plot",
          "plots",
          "go to",
          "video",
          "videos",
          "audio",
          "write a program");

  private static final Pattern BLACKLISTED =
      Pattern.compile(
          "\\b(" + String.join("|", BLACKLIST.stream().map(Pattern::quote).toList()) + ")\\b",
          Pattern.CASE_INSENSITIVE);

  private final Set<String> seen = new HashSet<>();

  /** The duplicate key: whitespace collapsed (case kept: ROUGE-L catches case-only variants). */
  static String normalized(String instruction) {
    return Parsers.collapseWhitespace(instruction);
  }

  /** Remembers an instruction of the pool (a seed or a kept one) for the duplicate check. */
  public void add(String instruction) {
    seen.add(normalized(instruction));
  }

  /** Null when {@code instruction} passes every check here, else the first reason it fails. */
  public Rejection check(String instruction) {
    String s = instruction.strip();
    int words = s.isEmpty() ? 0 : s.split("\\s+").length;
    if (words < MIN_WORDS) return Rejection.TOO_SHORT;
    if (words > MAX_WORDS) return Rejection.TOO_LONG;
    char first = s.charAt(0);
    if (PUNCTUATION.indexOf(first) >= 0) return Rejection.STARTS_WITH_PUNCTUATION;
    if (first > 0x7f) return Rejection.STARTS_WITH_NON_ENGLISH;
    if (BLACKLISTED.matcher(s).find()) return Rejection.BLACKLISTED_KEYWORD;
    if (seen.contains(normalized(s))) return Rejection.DUPLICATE_INSTRUCTION;
    return null;
  }
}
