package dev.flantune.model;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Wall-clock time per phase of the training step (and, with the graph engine, per native op by
 * name, "op:*"), for {@code flan-tune bench --profile}. Off unless {@link #enable()} was called.
 */
public final class StepProfile {
  private static volatile boolean enabled;
  private static final Map<String, long[]> totals = new HashMap<>(); // name → {nanos, calls}

  private StepProfile() {}

  public static void enable() {
    enabled = true;
  }

  public static boolean enabled() {
    return enabled;
  }

  /** Adds {@code nanos} to the bucket {@code name}. */
  public static synchronized void add(String name, long nanos) {
    long[] t = totals.computeIfAbsent(name, k -> new long[2]);
    t[0] += nanos;
    t[1]++;
  }

  public static synchronized void reset() {
    totals.clear();
  }

  /** Prints the buckets, largest first, as a share of {@code stepNanos} (all steps together). */
  public static synchronized void print(PrintStream out, long stepNanos, int steps) {
    List<Map.Entry<String, long[]>> rows = new ArrayList<>(totals.entrySet());
    rows.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    long ops = 0;
    for (Map.Entry<String, long[]> e : rows)
      if (e.getKey().startsWith("op:")) ops += e.getValue()[0];
    out.printf(
        "%-44s %10s %8s %7s%n",
        ops > 0 ? "bucket (op:* = native op in fwd+bwd)" : "bucket", "ms/step", "calls", "share");
    for (Map.Entry<String, long[]> e : rows) {
      long[] t = e.getValue();
      out.printf(
          "%-44s %10.1f %8d %6.1f%%%n",
          e.getKey(), t[0] / 1e6 / steps, t[1] / steps, 100.0 * t[0] / stepNanos);
    }
    if (ops > 0) {
      out.printf(
          "%-44s %10.1f %8s %6.1f%%%n",
          "sum of op:*", ops / 1e6 / steps, "", 100.0 * ops / stepNanos);
    }
    out.printf("%-44s %10.1f%n", "step", stepNanos / 1e6 / steps);
  }
}
