package dev.flantune.selfinstruct;

import java.util.Locale;

/** Why a candidate instruction or a generated instance was dropped; each is counted. */
public enum Rejection {
  // instructions
  TOO_SHORT,
  TOO_LONG,
  STARTS_WITH_PUNCTUATION,
  STARTS_WITH_NON_ENGLISH,
  BLACKLISTED_KEYWORD,
  DUPLICATE_INSTRUCTION,
  ROUGE_L_TOO_SIMILAR,
  NO_VALID_INSTANCES,
  // instances
  EMPTY_OUTPUT,
  OUTPUT_TOO_LONG,
  OUTPUT_REPEATS_INPUT,
  DUPLICATE_INSTANCE,
  SAME_INPUT_DIFFERENT_OUTPUTS;

  public boolean ofInstance() {
    return ordinal() >= EMPTY_OUTPUT.ordinal();
  }

  /** The report's name: lower snake case. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }
}
