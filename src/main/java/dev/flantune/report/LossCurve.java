package dev.flantune.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A training run's loss curve, read from the {@code metrics.jsonl} beside a run's {@code final/}
 * (lines with {@code step}, {@code loss} and, on evaluation steps, {@code val_loss}).
 */
public record LossCurve(List<Point> train, List<Point> validation) {
  /** The file name the trainer writes (kept in step with {@code RunDir.METRICS}). */
  static final String METRICS = "metrics.jsonl";

  public record Point(long step, double loss) {}

  public LossCurve {
    train = List.copyOf(train);
    validation = List.copyOf(validation);
  }

  /**
   * The exponential moving average of {@code points}' losses, debiased as TensorBoard draws it:
   * {@code s_t = β·s_{t-1} + (1-β)·x_t}, shown as {@code s_t / (1-β^t)}, so the first points follow
   * the data instead of starting at 0. Non-finite losses are skipped (the average carries on).
   */
  public static List<Double> ema(List<Point> points, double beta) {
    List<Double> out = new ArrayList<>(points.size());
    double s = 0, weight = 0;
    for (Point p : points) {
      if (Double.isFinite(p.loss())) {
        s = beta * s + (1 - beta) * p.loss();
        weight = beta * weight + (1 - beta);
      }
      out.add(weight == 0 ? p.loss() : s / weight);
    }
    return out;
  }

  /**
   * The curve of the run that produced {@code modelDir}, when it is a run's {@code final/} whose
   * parent has a readable metrics.jsonl; empty otherwise (a downloaded checkpoint has no run).
   * Unreadable lines are skipped: a plot is not worth failing an evaluation for.
   */
  public static Optional<LossCurve> ofRun(Path modelDir) {
    if (modelDir == null || modelDir.toAbsolutePath().getParent() == null) return Optional.empty();
    Path metrics = modelDir.toAbsolutePath().getParent().resolve(METRICS);
    if (!modelDir.getFileName().toString().equals("final") || !Files.isRegularFile(metrics))
      return Optional.empty();
    ObjectMapper json = new ObjectMapper();
    List<Point> train = new ArrayList<>(), validation = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(metrics)) {
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        if (line.isBlank()) continue;
        JsonNode o;
        try {
          o = json.readTree(line);
        } catch (IOException bad) {
          continue;
        }
        if (o == null || !o.path("step").isNumber()) continue;
        long step = o.get("step").asLong();
        if (o.path("loss").isNumber()) train.add(new Point(step, o.get("loss").asDouble()));
        if (o.path("val_loss").isNumber())
          validation.add(new Point(step, o.get("val_loss").asDouble()));
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    return train.isEmpty() ? Optional.empty() : Optional.of(new LossCurve(train, validation));
  }
}
