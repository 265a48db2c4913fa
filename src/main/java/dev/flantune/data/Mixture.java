package dev.flantune.data;

import dev.flantune.tasks.ClusterOverlaps;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.Seeds;
import dev.flantune.tasks.SplitSource;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The training mixture: examples-proportional mixing with a per-task cap (FLAN 2021: 3,000), with
 * optional per-task weights, and the held-out clusters (plus the clusters that overlap them)
 * excluded. Each epoch draws {@code quota = round(weight × min(n, cap))} examples from each task
 * and shuffles all of them together, so a task's share of the stream is proportional to its quota.
 *
 * <p>Streaming, so collections larger than memory work. Nothing holds examples or per-example
 * arrays for a whole task: a task's order is a seeded {@link IndexPermutation} (O(1) memory), and
 * epoch {@code e} takes the window {@code [e·quota, (e+1)·quota)} of it (mod n). Over {@code
 * ceil(n/quota)} epochs every example is therefore drawn. For an epoch, the chosen indices are
 * sorted and one sequential scan per task records their byte offsets; iteration then reads each
 * example by seeking to its offset. Memory is O(epoch size) longs and ints, independent of n.
 * Everything is a function of the seed and the epoch, so a run resumes at (epoch, index) exactly.
 */
public final class Mixture {

  /**
   * @param cap per-task cap on examples per epoch (FLAN: 3000)
   * @param weights optional task name → weight multiplying its capped size (default 1; 0 drops it)
   * @param heldOut clusters evaluated held-out, never trained on
   * @param overlaps clusters excluded together with a held-out one
   */
  public record Config(
      int cap,
      Map<String, Double> weights,
      Set<String> heldOut,
      ClusterOverlaps overlaps,
      long seed) {
    public static final int FLAN_CAP = 3000;

    public Config {
      if (cap < 1) throw FlanTuneException.badUsage("mixture cap must be >= 1, got " + cap);
      weights = Map.copyOf(weights);
      heldOut = Set.copyOf(heldOut);
      for (Map.Entry<String, Double> w : weights.entrySet()) {
        if (!(w.getValue() >= 0) || w.getValue().isInfinite()) {
          throw FlanTuneException.badUsage(
              "mixture weight of task " + w.getKey() + " must be >= 0, got " + w.getValue());
        }
      }
    }

    public static Config flan(Set<String> heldOut, long seed) {
      return new Config(FLAN_CAP, Map.of(), heldOut, ClusterOverlaps.flanDefault(), seed);
    }
  }

  /** A task in the mixture: its train-split size and how many of its examples each epoch draws. */
  public record Entry(Task task, int examples, int quota) {}

  private final List<Entry> entries;
  private final Map<String, Task> byName = new java.util.HashMap<>();
  private final Set<String> excludedClusters;
  private final long seed;

  private Mixture(List<Entry> entries, Set<String> excludedClusters, long seed) {
    this.entries = entries;
    for (Entry e : entries) byName.put(e.task().name(), e.task());
    this.excludedClusters = excludedClusters;
    this.seed = seed;
  }

  /** Counts each trainable task's train split (one scan each) and sets its quota. */
  public static Mixture plan(TaskRegistry registry, Config cfg) {
    Set<String> excluded = cfg.overlaps().excludedWith(cfg.heldOut());
    for (String w : cfg.weights().keySet()) registry.task(w); // an unknown name is a usage error
    List<Entry> entries = new ArrayList<>();
    for (Task t : registry.tasks()) {
      if (excluded.contains(t.cluster()) || !t.hasSplit(Task.Split.TRAIN)) continue;
      int n = t.split(Task.Split.TRAIN).count();
      double w = cfg.weights().getOrDefault(t.name(), 1.0);
      long quota = Math.round(w * Math.min(n, cfg.cap()));
      if (w > 0 && n > 0) quota = Math.max(quota, 1);
      if (quota > Integer.MAX_VALUE / 4)
        throw FlanTuneException.badUsage("task " + t.name() + ": weight " + w + " is too large");
      if (quota > 0) entries.add(new Entry(t, n, (int) quota));
    }
    if (entries.isEmpty()) {
      throw FlanTuneException.badUsage(
          "no training tasks left after excluding clusters " + excluded);
    }
    return new Mixture(List.copyOf(entries), excluded, cfg.seed());
  }

  public List<Entry> entries() {
    return entries;
  }

  /** The held-out clusters and those overlapping them: none of their tasks is in the mixture. */
  public Set<String> excludedClusters() {
    return excludedClusters;
  }

  /** Examples per epoch (the sum of the quotas). */
  public long epochSize() {
    long s = 0;
    for (Entry e : entries) s += e.quota();
    return s;
  }

  /** The examples of epoch {@code epoch}, in mixed order, from index {@code start} (to resume). */
  public Epoch epoch(int epoch, long start) {
    int m = (int) epochSize();
    int[] taskOf = new int[m];
    long[] offset = new long[m];
    int[] line = new int[m];
    int k = 0;
    for (int t = 0; t < entries.size(); t++) {
      Entry e = entries.get(t);
      IndexPermutation perm =
          new IndexPermutation(e.examples(), Seeds.mix(seed, Seeds.hash(e.task().name())));
      int[] chosen = new int[e.quota()];
      long base = (long) epoch * e.quota();
      for (int j = 0; j < chosen.length; j++)
        chosen[j] = (int) perm.apply(Math.floorMod(base + j, (long) e.examples()));
      Arrays.sort(chosen);
      SplitSource.Position[] ps = e.task().split(Task.Split.TRAIN).positions(chosen);
      for (SplitSource.Position p : ps) {
        taskOf[k] = t;
        offset[k] = p.position();
        line[k++] = p.line();
      }
    }
    // Fisher–Yates over the epoch's entries: a uniform interleaving of the tasks' draws.
    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, 0x313, epoch));
    int[] order = new int[m];
    for (int i = 0; i < m; i++) order[i] = i;
    for (int i = m - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
    return new Epoch(order, taskOf, offset, line, (int) Math.min(start, m));
  }

  /** One epoch's examples in order; holds open files until closed. */
  public final class Epoch implements Iterator<Example>, AutoCloseable {
    private final int[] order;
    private final int[] taskOf;
    private final long[] offset;
    private final int[] line;
    private final SplitSource.Reader[] readers = new SplitSource.Reader[entries.size()];
    private int next;

    private Epoch(int[] order, int[] taskOf, long[] offset, int[] line, int start) {
      this.order = order;
      this.taskOf = taskOf;
      this.offset = offset;
      this.line = line;
      this.next = start;
    }

    /** The index of the next example within the epoch (save it to resume). */
    public long position() {
      return next;
    }

    public long size() {
      return order.length;
    }

    @Override
    public boolean hasNext() {
      return next < order.length;
    }

    @Override
    public Example next() {
      if (!hasNext()) throw new NoSuchElementException();
      int i = order[next++];
      int t = taskOf[i];
      if (readers[t] == null) readers[t] = entries.get(t).task().split(Task.Split.TRAIN).reader();
      return readers[t].read(new SplitSource.Position(offset[i], line[i]));
    }

    /** The task of an example this epoch returned (examples carry only their task's name). */
    public Task taskOf(Example e) {
      Task t = byName.get(e.task());
      if (t == null)
        throw new IllegalArgumentException(
            "example of task " + e.task() + " is not from this mixture");
      return t;
    }

    @Override
    public void close() {
      for (SplitSource.Reader r : readers) if (r != null) r.close();
    }
  }
}
