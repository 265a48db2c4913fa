package dev.flantune.train.spark;

import dev.flantune.train.TrainStep;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * What one partition runs for one optimizer step: take a replica, load the step's broadcast
 * parameters into it, and run the single-process step's forward/backward ({@link
 * TrainStep#accumulate}) over its share of micro-batches, unnormalized. Returns the gradient sum,
 * the loss sum and the target-token count; the driver combines partitions.
 *
 * <p>Deterministic: a retried task recomputes exactly the same result from the same inputs.
 */
final class PartitionWork implements Function<PartitionWork.Shard, PartitionWork.Result> {
  /** One partition's input: its index and its micro-batches, in the single-process order. */
  record Shard(int index, long step, List<ShippedBatch> batches) implements Serializable {}

  /** A partition's output. {@code gradient} is Σ over its micro-batches, not yet normalized. */
  record Result(
      int index,
      double lossSum,
      long targetTokens,
      byte[][] gradient,
      long fetchNanos,
      long computeNanos)
      implements Serializable {}

  /**
   * Called in every task before its forward/backward: a way for tests to make tasks fail (local
   * mode runs tasks in the test's JVM). Null in normal use.
   */
  interface FaultHook {
    void beforeCompute(long step, int partition, int attempt);
  }

  static volatile FaultHook faultHook;

  private final Replicas.Spec spec;
  private final Broadcast<byte[][]> parameters;
  private final int chunkFloats;

  PartitionWork(Replicas.Spec spec, Broadcast<byte[][]> parameters, int chunkFloats) {
    this.spec = spec;
    this.parameters = parameters;
    this.chunkFloats = chunkFloats;
  }

  @Override
  public Result call(Shard shard) {
    long t0 = System.nanoTime();
    Replicas.Replica r = Replicas.borrow(spec);
    try {
      FloatChunks.copyInto(parameters.value(), r.model().parameters().flat());
      long t1 = System.nanoTime();
      FaultHook hook = faultHook;
      TaskContext task = TaskContext.get();
      if (hook != null) {
        hook.beforeCompute(shard.step(), shard.index(), task == null ? 0 : task.attemptNumber());
      }
      var micro = ShippedBatch.batches(shard.batches());
      r.engine().zeroGradients();
      double loss = TrainStep.accumulate(r.engine(), micro, 1);
      byte[][] gradient = FloatChunks.split(r.engine().gradientBuffer().flat(), chunkFloats);
      return new Result(
          shard.index(),
          loss,
          TrainStep.targetTokens(micro),
          gradient,
          t1 - t0,
          System.nanoTime() - t1);
    } finally {
      Replicas.giveBack(spec, r);
    }
  }
}
