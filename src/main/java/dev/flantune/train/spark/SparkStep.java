package dev.flantune.train.spark;

import dev.flantune.config.RunConfig.SparkSettings;
import dev.flantune.config.RunConfig.TrainConfig;
import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;
import dev.flantune.train.AdamW;
import dev.flantune.train.LrSchedule;
import dev.flantune.train.OptimizerStep;
import dev.flantune.train.TrainStep;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One optimizer step spread over Spark partitions, on the driver:
 *
 * <ol>
 *   <li>read the step's grad_accum micro-batches from the stream, exactly as one process would;
 *   <li>broadcast the flat parameters (never captured in a closure);
 *   <li>partition w of W computes the gradient sum of micro-batches [w·k, (w+1)·k), k = accum / W;
 *   <li>sum the partitions in partition order, divide by the step's target tokens;
 *   <li>the single-process step's guard, clipping and AdamW ({@link TrainStep#apply}).
 * </ol>
 *
 * So a distributed run changes where a step runs, not what it computes (up to fp32 summation
 * order). A failed task is retried by Spark; a job that fails for good throws before any update.
 */
public final class SparkStep implements OptimizerStep {
  private final TrainStep local;
  private final JavaSparkContext sc;
  private final int workers;
  private final Replicas.Spec spec;
  private final int chunkFloats;
  private final Consumer<String> note;
  private final StepTimes times = new StepTimes();

  /** Local SGD's settings ({@code sync_every} > 1); null for synchronous steps. */
  record LocalSgd(int syncEvery, LrSchedule schedule, AdamW.Settings adam, double clip) {}

  private final LocalSgd localSgd;
  private final Map<Long, TrainStep.Result> roundResults = new HashMap<>();

  SparkStep(
      TrainStep local,
      JavaSparkContext sc,
      int workers,
      int chunkFloats,
      LocalSgd localSgd,
      Consumer<String> note) {
    this.localSgd = localSgd;
    this.local = local;
    this.sc = sc;
    this.workers = workers;
    this.chunkFloats = chunkFloats;
    this.note = note;
    this.spec = Replicas.Spec.of(UUID.randomUUID().toString(), local.model());
  }

  /**
   * Starts Spark for {@code s} and wraps the driver's step (whose model and optimizer it updates).
   */
  public static SparkStep open(
      TrainStep local, SparkSettings s, TrainConfig t, Consumer<String> note) {
    List<String> providers = SparkContexts.slf4jProviders();
    if (providers.size() != 1) {
      note.accept("warning: " + providers.size() + " SLF4J bindings on the classpath " + providers);
    }
    JavaSparkContext sc = SparkContexts.start(s);
    note.accept(
        "spark "
            + sc.version()
            + ": master "
            + sc.master()
            + ", "
            + s.workers()
            + " workers × "
            + local.gradAccum() / s.workers()
            + " micro-batches per step");
    LocalSgd localSgd =
        s.syncEvery() == 1
            ? null
            : new LocalSgd(
                s.syncEvery(),
                new LrSchedule(t.lr(), t.warmup(), t.steps(), t.schedule(), t.minLrRatio()),
                new AdamW.Settings(t.beta1(), t.beta2(), t.eps(), t.weightDecay()),
                t.clip());
    return new SparkStep(local, sc, s.workers(), FloatChunks.DEFAULT_CHUNK, localSgd, note);
  }

  @Override
  public TrainStep.Result run(BatchSource source, long step, double lr) {
    if (localSgd != null) {
      TrainStep.Result done = roundResults.remove(step);
      return done != null ? done : runRound(source, step);
    }
    long t0 = System.nanoTime();
    List<Batch> micro = new ArrayList<>(local.gradAccum());
    for (int i = 0; i < local.gradAccum(); i++) micro.add(source.next());
    long targets = TrainStep.targetTokens(micro), tokens = TrainStep.realTokens(micro);
    TrainStep.requireTargets(targets, step);
    List<PartitionWork.Shard> shards = shards(micro, step);

    long t1 = System.nanoTime();
    Broadcast<byte[][]> params =
        sc.broadcast(FloatChunks.split(local.model().parameters().flat(), chunkFloats));
    long t2 = System.nanoTime();
    List<PartitionWork.Result> results;
    try {
      results =
          sc.parallelize(shards, workers)
              .map(new PartitionWork(spec, params, chunkFloats))
              .collect();
    } catch (Exception e) { // SparkException: checked in Java's eyes, undeclared by Scala
      params.destroy();
      throw jobFailed(step, e);
    }
    long t3 = System.nanoTime();
    params.destroy();
    long destroyed = System.nanoTime() - t3;

    INDArray g = local.gradientBuffer().flat();
    g.assign(0);
    double lossSum = 0;
    long partitionTargets = 0;
    long slowest = 0, fetch = 0;
    for (int w = 0; w < workers; w++) {
      PartitionWork.Result r = results.get(w);
      if (r.index() != w) throw new IllegalStateException("partition results out of order");
      FloatChunks.addInto(r.gradient(), g);
      lossSum += r.lossSum();
      partitionTargets += r.targetTokens();
      if (r.fetchNanos() + r.computeNanos() > slowest) {
        slowest = r.fetchNanos() + r.computeNanos();
        fetch = r.fetchNanos();
      }
    }
    if (partitionTargets != targets) throw new IllegalStateException("target tokens differ");
    g.muli((float) (1.0 / targets));
    TrainStep.Result result = local.apply(step, lr, lossSum / targets, tokens, targets);
    long t4 = System.nanoTime();
    times.add(
        t1 - t0,
        t2 - t1 + destroyed,
        fetch,
        slowest - fetch,
        (t3 - t2) - slowest,
        t4 - t3 - destroyed);
    return result;
  }

  /**
   * Local SGD: from {@code first} to the next multiple of sync_every, each partition runs whole
   * steps on its share of every step's micro-batches; then the driver averages parameters and both
   * Adam moments over partitions (in partition order). Returns the first step's result and keeps
   * the others for the following calls. The stream is read for the whole round at once.
   */
  private TrainStep.Result runRound(BatchSource source, long first) {
    long t0 = System.nanoTime();
    int k = (int) (localSgd.syncEvery() - first % localSgd.syncEvery());
    int accum = local.gradAccum(), per = accum / workers;
    List<List<Batch>> steps = new ArrayList<>(k);
    double[] lrs = new double[k];
    for (int j = 0; j < k; j++) {
      List<Batch> micro = new ArrayList<>(accum);
      for (int i = 0; i < accum; i++) micro.add(source.next());
      TrainStep.requireTargets(TrainStep.targetTokens(micro), first + j);
      steps.add(micro);
      lrs[j] = localSgd.schedule().at(first + j);
    }
    List<LocalSgdWork.Shard> shards = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      List<List<ShippedBatch>> mine = new ArrayList<>(k);
      for (List<Batch> micro : steps) {
        List<ShippedBatch> share = new ArrayList<>(per);
        for (Batch b : micro.subList(w * per, (w + 1) * per)) share.add(ShippedBatch.of(b));
        mine.add(share);
      }
      shards.add(new LocalSgdWork.Shard(w, mine, lrs));
    }
    long t1 = System.nanoTime();
    AdamW adam = local.optimizer();
    Broadcast<LocalSgdWork.State> state =
        sc.broadcast(
            new LocalSgdWork.State(
                FloatChunks.split(local.model().parameters().flat(), chunkFloats),
                FloatChunks.split(adam.firstMomentBuffer().flat(), chunkFloats),
                FloatChunks.split(adam.secondMomentBuffer().flat(), chunkFloats),
                adam.step()));
    long t2 = System.nanoTime();
    List<LocalSgdWork.Result> results;
    try {
      results =
          sc.parallelize(shards, workers)
              .map(new LocalSgdWork(spec, state, localSgd.adam(), localSgd.clip(), chunkFloats))
              .collect();
    } catch (Exception e) { // SparkException
      state.destroy();
      throw jobFailed(first, e);
    }
    long t3 = System.nanoTime();
    state.destroy();
    long destroyed = System.nanoTime() - t3;

    average(results, LocalSgdWork.Result::parameters, local.model().parameters().flat());
    average(results, LocalSgdWork.Result::firstMoments, adam.firstMomentBuffer().flat());
    average(results, LocalSgdWork.Result::secondMoments, adam.secondMomentBuffer().flat());
    adam.restoreStep(adam.step() + k);
    long slowest = 0, fetch = 0;
    for (LocalSgdWork.Result r : results) {
      if (r.fetchNanos() + r.computeNanos() > slowest) {
        slowest = r.fetchNanos() + r.computeNanos();
        fetch = r.fetchNanos();
      }
    }
    for (int j = 0; j < k; j++) {
      double lossSum = 0, norms = 0;
      long targets = 0;
      boolean clipped = false;
      for (LocalSgdWork.Result r : results) {
        lossSum += r.lossSums()[j];
        targets += r.targetTokens()[j];
        norms += r.gradNorms()[j];
        clipped |= r.clipped()[j];
      }
      // grad_norm: the mean of the workers' own norms (there is no global gradient in local SGD).
      roundResults.put(
          first + j,
          new TrainStep.Result(
              lossSum / targets,
              norms / workers,
              lrs[j],
              TrainStep.realTokens(steps.get(j)),
              targets,
              clipped));
    }
    long t4 = System.nanoTime();
    times.add(
        t1 - t0,
        t2 - t1 + destroyed,
        fetch,
        slowest - fetch,
        (t3 - t2) - slowest,
        t4 - t3 - destroyed);
    return roundResults.remove(first);
  }

  /** {@code into} ← the mean over partitions (summed in partition order) of one vector each. */
  private void average(
      List<LocalSgdWork.Result> results,
      java.util.function.Function<LocalSgdWork.Result, byte[][]> vector,
      INDArray into) {
    into.assign(0);
    for (int w = 0; w < workers; w++) {
      if (results.get(w).index() != w) throw new IllegalStateException("results out of order");
      FloatChunks.addInto(vector.apply(results.get(w)), into);
    }
    into.muli((float) (1.0 / workers));
  }

  /** Partition w gets micro-batches [w·k, (w+1)·k): the sum in partition order is the step's. */
  private List<PartitionWork.Shard> shards(List<Batch> micro, long step) {
    int per = micro.size() / workers;
    List<PartitionWork.Shard> shards = new ArrayList<>(workers);
    for (int w = 0; w < workers; w++) {
      List<ShippedBatch> mine = new ArrayList<>(per);
      for (Batch b : micro.subList(w * per, (w + 1) * per)) mine.add(ShippedBatch.of(b));
      shards.add(new PartitionWork.Shard(w, step, mine));
    }
    return shards;
  }

  private static FlanTuneException jobFailed(long step, Exception e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) root = root.getCause();
    String why = String.valueOf(root.getMessage() == null ? root : root.getMessage());
    why = why.lines().findFirst().orElse("").trim();
    if (why.length() > 300) why = why.substring(0, 300) + "…";
    return new FlanTuneException(
        FlanTuneException.Kind.RUN_FAILED,
        "step "
            + (step + 1)
            + ": the Spark job failed after its retries ("
            + why
            + "); no update was applied and the last checkpoint is intact: fix the cause and"
            + " continue with --resume",
        e);
  }

  /** Time per phase so far (docs/distributed.md). */
  public StepTimes times() {
    return times;
  }

  @Override
  public CausalLm model() {
    return local.model();
  }

  @Override
  public AdamW optimizer() {
    return local.optimizer();
  }

  @Override
  public void close() {
    Replicas.release(spec.runId());
    if (times.steps() > 0) note.accept("spark: " + times.summary());
    sc.stop();
  }
}
