package dev.flantune.util;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Keeps library chatter off standard output, which carries only command output (JSONL, tables).
 * SameDiff prints "Added differentiated op …" with System.out.println, beyond any logger's reach;
 * after {@link #install()}, System.out goes to stderr with those lines dropped, and the CLI writes
 * its own output to the real stdout it was handed.
 */
public final class QuietStdout {
  private QuietStdout() {}

  /** Redirects System.out and returns the original standard output. */
  public static PrintStream install() {
    PrintStream real = System.out;
    System.setOut(new PrintStream(new LineFilter(System.err), true, StandardCharsets.UTF_8));
    return real;
  }

  static boolean isNoise(String line) {
    return line.startsWith("Added differentiated op") || line.startsWith("Debug info for node_");
  }

  private static final class LineFilter extends OutputStream {
    private final PrintStream target;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    LineFilter(PrintStream target) {
      this.target = target;
    }

    @Override
    public synchronized void write(int b) {
      if (b == '\n') {
        String s = line.toString(StandardCharsets.UTF_8);
        line.reset();
        if (!isNoise(s)) target.println(s);
      } else {
        line.write(b);
      }
    }
  }
}
