package dev.flantune.train.spark;

import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.train.AdamW;
import dev.flantune.train.TrainStep;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;

/**
 * What one partition runs for one round of local SGD ({@code sync_every} = K > 1): K whole
 * single-process steps ({@link TrainStep#run}: forward/backward, guard, clipping, AdamW) on its own
 * share of each step's micro-batches, starting from the broadcast parameters and Adam moments.
 * Returns its parameters and moments, which the driver averages, and each step's loss. Each worker
 * normalizes by its own target tokens and clips its own gradient: not the single-process step.
 */
final class LocalSgdWork implements Function<LocalSgdWork.Shard, LocalSgdWork.Result> {
  /** The optimizer state every partition starts the round from. */
  record State(byte[][] parameters, byte[][] firstMoments, byte[][] secondMoments, long adamStep)
      implements Serializable {}

  /** One partition's micro-batches for each step of the round, and each step's learning rate. */
  record Shard(int index, List<List<ShippedBatch>> steps, double[] lrs) implements Serializable {}

  /** Per step of the round: loss × target tokens, target tokens, gradient norm, clipped. */
  record Result(
      int index,
      double[] lossSums,
      long[] targetTokens,
      double[] gradNorms,
      boolean[] clipped,
      byte[][] parameters,
      byte[][] firstMoments,
      byte[][] secondMoments,
      long fetchNanos,
      long computeNanos)
      implements Serializable {}

  private final Replicas.Spec spec;
  private final Broadcast<State> state;
  private final AdamW.Settings settings;
  private final double clip;
  private final int chunkFloats;

  LocalSgdWork(
      Replicas.Spec spec,
      Broadcast<State> state,
      AdamW.Settings settings,
      double clip,
      int chunkFloats) {
    this.spec = spec;
    this.state = state;
    this.settings = settings;
    this.clip = clip;
    this.chunkFloats = chunkFloats;
  }

  @Override
  public Result call(Shard shard) {
    long t0 = System.nanoTime();
    Replicas.Replica r = Replicas.borrow(spec);
    try {
      int k = shard.steps().size(), perStep = shard.steps().get(0).size();
      TrainStep step = new TrainStep(r.model(), settings, clip, perStep).discardingGradients();
      AdamW adam = step.optimizer();
      State s = state.value();
      FloatChunks.copyInto(s.parameters(), r.model().parameters().flat());
      FloatChunks.copyInto(s.firstMoments(), adam.firstMomentBuffer().flat());
      FloatChunks.copyInto(s.secondMoments(), adam.secondMomentBuffer().flat());
      adam.restoreStep(s.adamStep());
      long t1 = System.nanoTime();
      double[] lossSums = new double[k], gradNorms = new double[k];
      long[] targets = new long[k];
      boolean[] clipped = new boolean[k];
      BatchSource mine = listSource(shard.steps());
      for (int j = 0; j < k; j++) {
        TrainStep.Result res = step.run(mine, j, shard.lrs()[j]);
        lossSums[j] = res.loss() * res.targetTokens();
        targets[j] = res.targetTokens();
        gradNorms[j] = res.gradNorm();
        clipped[j] = res.clipped();
      }
      return new Result(
          shard.index(),
          lossSums,
          targets,
          gradNorms,
          clipped,
          FloatChunks.split(r.model().parameters().flat(), chunkFloats),
          FloatChunks.split(adam.firstMomentBuffer().flat(), chunkFloats),
          FloatChunks.split(adam.secondMomentBuffer().flat(), chunkFloats),
          t1 - t0,
          System.nanoTime() - t1);
    } finally {
      Replicas.giveBack(spec, r);
    }
  }

  /** The round's micro-batches, step after step, as the stream {@link TrainStep#run} reads. */
  private static BatchSource listSource(List<List<ShippedBatch>> steps) {
    Deque<Batch> queue = new ArrayDeque<>();
    for (List<ShippedBatch> step : steps) queue.addAll(ShippedBatch.batches(step));
    return new BatchSource() {
      long position;

      @Override
      public Batch next() {
        position++;
        return queue.removeFirst();
      }

      @Override
      public long position() {
        return position;
      }

      @Override
      public void seek(long p) {
        throw new UnsupportedOperationException("a round's micro-batches are read once");
      }

      @Override
      public String fingerprint() {
        return "round";
      }
    };
  }
}
