package dev.flantune.eval;

import dev.flantune.data.IndexPermutation;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.Seeds;
import dev.flantune.tasks.SplitSource;
import dev.flantune.tasks.Task;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The examples a task is evaluated on: all of the split when it has at most {@code max}, otherwise
 * a seeded sample of {@code max}, in file order. Chosen once per task, so every template and both
 * models see exactly the same examples. Only the chosen examples are held in memory.
 */
final class EvalExamples {
  private EvalExamples() {}

  /** An example and its 0-based index in the split file (reported as {@code index}). */
  record Item(int index, Example example) {}

  static List<Item> select(Task task, Task.Split split, int max, long seed) {
    SplitSource source = task.split(split);
    int count = source.count();
    List<Item> out = new ArrayList<>(Math.min(count, max));
    if (count <= max) {
      int[] i = {0};
      source.forEach(e -> out.add(new Item(i[0]++, e)));
      return out;
    }
    // A seeded permutation's first max images: a uniform sample without holding all indices.
    IndexPermutation perm =
        new IndexPermutation(count, Seeds.mix(seed, Seeds.hash(task.name()), 0xe7a1));
    int[] chosen = new int[max];
    for (int i = 0; i < max; i++) chosen[i] = (int) perm.apply(i);
    Arrays.sort(chosen);
    SplitSource.Position[] positions = source.positions(chosen);
    try (SplitSource.Reader reader = source.reader()) {
      for (int i = 0; i < max; i++) out.add(new Item(chosen[i], reader.read(positions[i])));
    }
    return out;
  }
}
