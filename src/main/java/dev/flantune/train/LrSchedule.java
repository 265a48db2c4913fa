package dev.flantune.train;

import dev.flantune.config.RunConfig.Schedule;

/** Linear warmup to the peak rate, then cosine, linear or constant decay to peak · minRatio. */
public record LrSchedule(double peak, int warmup, int totalSteps, Schedule shape, double minRatio) {

  /** The learning rate of the update that completes step {@code step + 1} (step counts from 0). */
  public double at(long step) {
    if (step < warmup) return peak * (step + 1) / warmup;
    if (shape == Schedule.CONSTANT) return peak;
    double progress =
        Math.min(1.0, (double) (step - warmup) / Math.max(1, totalSteps - warmup - 1));
    double min = peak * minRatio;
    return switch (shape) {
      case COSINE -> min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
      case LINEAR -> peak - (peak - min) * progress;
      case CONSTANT -> peak;
    };
  }
}
