package dev.flantune.eval;

/** Opens package-private evaluation helpers to the CLI tests. */
public final class EvalTestAccess {
  private EvalTestAccess() {}

  public static String normalize(String s) {
    return TaskEvaluator.normalize(s);
  }
}
