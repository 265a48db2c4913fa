package dev.flantune.train.spark;

/**
 * Where a distributed step's time goes, summed over steps: reading and slicing the micro-batches,
 * broadcasting the parameters (and dropping them after the step), the slowest partition's parameter
 * fetch and forward/backward, the rest of the job (scheduling, result transfer), and summing +
 * clipping + AdamW on the driver.
 */
public final class StepTimes {
  private long steps, data, broadcast, fetch, compute, collect, update;

  synchronized void add(
      long data, long broadcast, long fetch, long compute, long collect, long update) {
    steps++;
    this.data += data;
    this.broadcast += broadcast;
    this.fetch += fetch;
    this.compute += compute;
    this.collect += collect;
    this.update += update;
  }

  public synchronized long steps() {
    return steps;
  }

  /** Mean milliseconds per step: data, broadcast, fetch, compute, collect, update. */
  public synchronized double[] meanMs() {
    double n = Math.max(1, steps) * 1e6;
    return new double[] {data / n, broadcast / n, fetch / n, compute / n, collect / n, update / n};
  }

  public String summary() {
    double[] m = meanMs();
    return String.format(
        "%d steps, mean ms per step: data %.1f, broadcast %.1f, fetch %.1f, compute %.1f"
            + " (slowest partition), collect %.1f, sum+update %.1f",
        steps(), m[0], m[1], m[2], m[3], m[4], m[5]);
  }
}
