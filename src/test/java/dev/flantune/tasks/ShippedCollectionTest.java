package dev.flantune.tasks;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The shipped collection (data/tasks) as a whole: its size, a source and license on every task,
 * every example readable (reading checks fields, and answer ∈ options for classification), and no
 * example in both splits of a task.
 */
class ShippedCollectionTest {
  static final Path SHIPPED = Path.of("data/tasks");

  @Test
  void sizeLicensesAndEveryExample() {
    TaskRegistry reg = TaskRegistry.load(SHIPPED);
    assertTrue(reg.tasks().size() >= 24, "tasks: " + reg.tasks().size());
    assertTrue(reg.clusters().size() >= 8, "clusters: " + reg.clusters().keySet());
    for (Task t : reg.tasks()) {
      assertTrue(
          t.templates().size() >= 10, t.name() + " has " + t.templates().size() + " templates");
      assertTrue(
          t.templates().stream().filter(Template::turned).count() <= 3,
          t.name() + ": at most 3 turned templates");
      assertFalse(t.license() == null || t.license().isBlank(), t.name() + " has no license");
      assertFalse(t.source() == null || t.source().isBlank(), t.name() + " has no source");
      assertTrue(
          t.hasSplit(Task.Split.TRAIN) && t.hasSplit(Task.Split.VALIDATION),
          t.name() + " needs both splits");
      int[] count = new int[1];
      for (Task.Split s : Task.Split.values()) {
        if (!t.hasSplit(s)) continue;
        t.split(s)
            .forEach(
                ex -> {
                  count[0]++;
                  if (t.kind() == Task.Kind.CLASSIFICATION) {
                    var options =
                        ex.options() != null && !ex.options().isEmpty()
                            ? ex.options()
                            : t.options();
                    assertTrue(
                        options.contains(ex.answer()),
                        t.name() + ":" + ex.line() + " answer outside the options");
                  }
                });
      }
      assertTrue(count[0] > 0, t.name() + " is empty");
    }
  }

  @Test
  void trainAndValidationDoNotOverlap() {
    TaskRegistry reg = TaskRegistry.load(SHIPPED);
    Map<String, Integer> overlaps = new TreeMap<>();
    for (Task t : reg.tasks()) {
      Set<Map<String, String>> train = new HashSet<>();
      t.split(Task.Split.TRAIN).forEach(ex -> train.add(inputs(ex)));
      int[] shared = new int[1];
      t.split(Task.Split.VALIDATION)
          .forEach(
              ex -> {
                if (train.contains(inputs(ex))) shared[0]++;
              });
      if (shared[0] > 0) overlaps.put(t.name(), shared[0]);
    }
    assertEquals(Map.of(), overlaps, "validation examples also in train");
  }

  /** An example's fields other than the answer: what the model sees. */
  private static Map<String, String> inputs(Example ex) {
    Map<String, String> m = new HashMap<>(ex.fields());
    m.remove(Template.ANSWER);
    return m;
  }
}
