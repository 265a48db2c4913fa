package dev.flantune.train;

import java.io.PrintWriter;
import java.time.Duration;

/**
 * Training feedback on stderr: a live one-line bar on a terminal, plain log lines every N steps
 * otherwise. Counts are optimizer steps; tokens are real (non-padding) tokens, so the numbers stay
 * right under accumulation and packing.
 */
public final class Progress {
  private final PrintWriter err;
  private final boolean terminal;
  private final int logEvery;
  private final long startNanos = System.nanoTime();
  private long firstStep = -1;

  public Progress(PrintWriter err, boolean terminal, int logEvery) {
    this.err = err;
    this.terminal = terminal;
    this.logEvery = logEvery;
  }

  void step(long done, long total, TrainStep.Result r, double tokPerS, double valLoss) {
    if (firstStep < 0) firstStep = done - 1;
    double elapsed = (System.nanoTime() - startNanos) / 1e9;
    double perStep = elapsed / Math.max(1, done - firstStep);
    String eta = format(Duration.ofSeconds((long) (perStep * (total - done))));
    String line =
        String.format(
            "step %d/%d  loss %.4f  lr %.2e  grad %.2f  %,.0f tok/s  ETA %s%s",
            done,
            total,
            r.loss(),
            r.lr(),
            r.gradNorm(),
            tokPerS,
            eta,
            Double.isNaN(valLoss) ? "" : String.format("  val_loss %.4f", valLoss));
    if (terminal) {
      err.print("\r" + line + "   ");
      if (done == total || !Double.isNaN(valLoss)) err.println();
      err.flush();
    } else if (done % logEvery == 0
        || done == total
        || !Double.isNaN(valLoss)
        || done == firstStep + 1) {
      err.println(line);
      err.flush();
    }
  }

  /** Where progress goes (stderr), for components that log on their own. */
  public PrintWriter writer() {
    return err;
  }

  public void note(String message) {
    if (terminal) err.print("\r");
    err.println(message);
    err.flush();
  }

  static String format(Duration d) {
    long s = d.getSeconds();
    return s >= 3600
        ? String.format("%dh%02dm", s / 3600, s % 3600 / 60)
        : String.format("%dm%02ds", s / 60, s % 60);
  }
}
