package dev.flantune.model;

import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.HfCheckpoint;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.model.family.Family;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Whole-checkpoint reads and writes for tests: config.json through its family, then the weights.
 */
public final class Checkpoints {
  private Checkpoints() {}

  /** A checkpoint read whole: its config and every weight. */
  public record Loaded(ModelConfig config, Map<String, Tensor> weights, DType storedAs) {}

  public static Loaded load(Path dir) {
    HfCheckpoint.checkDirectory(dir);
    ModelConfig c = Family.readConfig(dir.resolve(HfCheckpoint.CONFIG));
    HfCheckpoint ck = HfCheckpoint.load(dir, Family.tableOf(c));
    return new Loaded(c, ck.weights(), ck.storedAs());
  }

  public static void save(
      Path dir, ModelConfig c, Map<String, Tensor> weights, DType dtype, Path tokenizer)
      throws IOException {
    HfCheckpoint.save(dir, c.json(), Family.tableOf(c), weights, dtype, tokenizer);
  }
}
