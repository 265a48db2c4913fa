package dev.flantune.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Few-shot exemplars for one task: a seeded reservoir sample of its train split (bounded memory
 * however large the split), from which each query gets k distinct exemplars chosen by a hash of the
 * query's identity. A query from the train split never gets itself as an exemplar.
 */
public final class ExemplarPool {
  private final List<Example> pool;
  private final long seed;

  private ExemplarPool(List<Example> pool, long seed) {
    this.pool = pool;
    this.seed = seed;
  }

  /**
   * Samples up to {@code size} train examples of {@code task} (empty pool if it has no train
   * split).
   */
  public static ExemplarPool of(Task task, int size, long seed) {
    List<Example> pool = new ArrayList<>(size);
    if (task.hasSplit(Task.Split.TRAIN)) {
      SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, Seeds.hash(task.name()), 0xe8e));
      long[] seen = {0};
      task.split(Task.Split.TRAIN)
          .forEach(
              e -> {
                long i = seen[0]++;
                if (i < size) pool.add(e);
                else {
                  long j = rng.nextLong(i + 1);
                  if (j < size) pool.set((int) j, e);
                }
              });
    }
    return new ExemplarPool(List.copyOf(pool), seed);
  }

  public int size() {
    return pool.size();
  }

  /** Up to {@code k} distinct exemplars for {@code query}, never the query itself. */
  public List<Example> pick(Example query, int k) {
    if (k == 0 || pool.isEmpty()) return List.of();
    SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, query.key(), 0x5e1));
    List<Example> candidates = new ArrayList<>(pool);
    candidates.removeIf(e -> e.line() == query.line() && e.file().equals(query.file()));
    List<Example> out = new ArrayList<>(k);
    for (int i = 0; i < k && !candidates.isEmpty(); i++) {
      out.add(candidates.remove(rng.nextInt(candidates.size())));
    }
    return out;
  }
}
