package dev.flantune.train;

import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;

/**
 * What {@link Trainer} runs once per optimizer step: {@link TrainStep} in one process, or the same
 * step spread over Spark partitions ({@code train.spark}). Either way the driver's model and
 * optimizer hold the state that checkpoints save.
 */
public interface OptimizerStep extends AutoCloseable {
  /** Runs step {@code step} (0-based) with learning rate {@code lr} on the next micro-batches. */
  TrainStep.Result run(BatchSource source, long step, double lr);

  CausalLm model();

  AdamW optimizer();

  /** Releases what the step holds beyond the model (a Spark context); nothing in one process. */
  @Override
  default void close() {}
}
