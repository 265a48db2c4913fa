package dev.flantune.util;

/**
 * An expected failure with a one-line message that names the file, line or field and the fix. The
 * CLI maps {@link Kind} to the exit code; only unexpected exceptions print a stack trace.
 */
public class FlanTuneException extends RuntimeException {

  /** What went wrong, which decides the exit code (see ARCHITECTURE.md). */
  public enum Kind {
    /** The run itself failed (exit 1). */
    RUN_FAILED(1),
    /** Bad command-line usage or config (exit 2). */
    BAD_USAGE(2),
    /** A bad input file: checkpoint, data, template (exit 3). */
    BAD_INPUT(3);

    public final int exitCode;

    Kind(int exitCode) {
      this.exitCode = exitCode;
    }
  }

  private final Kind kind;

  public FlanTuneException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public FlanTuneException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  public static FlanTuneException badInput(String message) {
    return new FlanTuneException(Kind.BAD_INPUT, message);
  }

  public static FlanTuneException badInput(String message, Throwable cause) {
    return new FlanTuneException(Kind.BAD_INPUT, message, cause);
  }

  public static FlanTuneException badUsage(String message) {
    return new FlanTuneException(Kind.BAD_USAGE, message);
  }

  public static FlanTuneException runFailed(String message) {
    return new FlanTuneException(Kind.RUN_FAILED, message);
  }
}
