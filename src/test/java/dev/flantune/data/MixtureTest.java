package dev.flantune.data;

import static dev.flantune.tasks.Fixtures.ONE_TEMPLATE;
import static dev.flantune.tasks.Fixtures.lines;
import static dev.flantune.tasks.Fixtures.writeTask;
import static dev.flantune.tasks.Fixtures.yaml;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.tasks.ClusterOverlaps;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MixtureTest {
  @TempDir Path root;
  private TaskRegistry reg;

  @BeforeEach
  void collection() {
    // Sizes straddle the cap of 10; nli and paraphrase overlap per FLAN's table; blank lines are
    // skipped.
    writeTask(root, "big", yaml("big", "sentiment", ONE_TEMPLATE), "train.jsonl", lines(50));
    writeTask(root, "medium", yaml("medium", "topic", ONE_TEMPLATE), "train.jsonl", lines(20));
    writeTask(
        root,
        "small",
        yaml("small", "struct_to_text", ONE_TEMPLATE),
        "train.jsonl",
        "\n" + lines(3) + "\n\n" + lines(2));
    writeTask(root, "entail", yaml("entail", "nli", ONE_TEMPLATE), "train.jsonl", lines(30));
    writeTask(root, "para", yaml("para", "paraphrase", ONE_TEMPLATE), "train.jsonl", lines(30));
    reg = TaskRegistry.load(root);
  }

  private static List<String> drain(Mixture m, int epoch, long start) {
    List<String> out = new ArrayList<>();
    try (Mixture.Epoch e = m.epoch(epoch, start)) {
      while (e.hasNext()) {
        Example x = e.next();
        assertEquals(x.task(), e.taskOf(x).name());
        out.add(x.task() + ":" + x.line() + ":" + x.fields().get("sentence"));
      }
    }
    return out;
  }

  private static Map<String, Integer> perTask(List<String> draws) {
    Map<String, Integer> n = new TreeMap<>();
    for (String d : draws) n.merge(d.substring(0, d.indexOf(':')), 1, Integer::sum);
    return n;
  }

  private Mixture plan(int cap, Map<String, Double> weights, Set<String> heldOut, long seed) {
    return Mixture.plan(
        reg, new Mixture.Config(cap, weights, heldOut, ClusterOverlaps.flanDefault(), seed));
  }

  @Test
  void capsAreHonouredAndHeldOutClustersWithTheirOverlapsAreAbsent() {
    Mixture m = plan(10, Map.of(), Set.of("nli"), 7);
    assertEquals(Set.of("nli", "paraphrase"), m.excludedClusters());
    List<String> draws = drain(m, 0, 0);
    assertEquals(Map.of("big", 10, "medium", 10, "small", 5), perTask(draws));
    assertEquals(25, m.epochSize());
    for (String d : draws) assertTrue(!d.startsWith("entail:") && !d.startsWith("para:"), d);
    // Holding out paraphrase removes nli too: the table is symmetric.
    assertEquals(
        Set.of("nli", "paraphrase"),
        plan(10, Map.of(), Set.of("paraphrase"), 7).excludedClusters());
    assertEquals(
        Set.of("nli"),
        Mixture.plan(reg, new Mixture.Config(10, Map.of(), Set.of("nli"), ClusterOverlaps.NONE, 7))
            .excludedClusters());
  }

  @Test
  void weightsScaleTheCappedSize() {
    Mixture m = plan(10, Map.of("medium", 0.5, "small", 2.0, "para", 0.0), Set.of(), 1);
    assertEquals(
        Map.of("big", 10, "entail", 10, "medium", 5, "small", 10), perTask(drain(m, 0, 0)));
    var e = assertThrows(FlanTuneException.class, () -> plan(10, Map.of("nope", 1.0), Set.of(), 1));
    assertEquals(FlanTuneException.Kind.BAD_USAGE, e.kind());
  }

  @Test
  void deterministicPerSeedAndMixedAcrossTasks() {
    List<String> a = drain(plan(10, Map.of(), Set.of("nli"), 3), 0, 0);
    assertEquals(a, drain(plan(10, Map.of(), Set.of("nli"), 3), 0, 0));
    assertNotEquals(a, drain(plan(10, Map.of(), Set.of("nli"), 4), 0, 0));
    assertNotEquals(a, drain(plan(10, Map.of(), Set.of("nli"), 3), 1, 0));
    assertEquals(3, perTask(a.subList(0, 12)).size(), "tasks are interleaved, not blocked: " + a);
  }

  @Test
  void everyExampleIsReachedExactlyOnceOverCeilNOverCapEpochs() {
    Mixture m = plan(10, Map.of(), Set.of("nli"), 11);
    Map<String, Integer> seen = new HashMap<>();
    for (int epoch = 0; epoch < 5; epoch++) {
      for (String d : drain(m, epoch, 0)) if (d.startsWith("big:")) seen.merge(d, 1, Integer::sum);
    }
    assertEquals(50, seen.size(), "all 50 examples of the 50-example task within 5 epochs of 10");
    assertTrue(seen.values().stream().allMatch(n -> n == 1));
    // A task under the cap gives all its examples every epoch.
    Set<String> small = new HashSet<>();
    for (String d : drain(m, 0, 0)) if (d.startsWith("small:")) small.add(d);
    assertEquals(5, small.size());
  }

  @Test
  void resumingAtAPositionYieldsTheRestOfTheEpoch() {
    Mixture m = plan(10, Map.of(), Set.of(), 5);
    List<String> full = drain(m, 2, 0);
    assertEquals(full.subList(17, full.size()), drain(m, 2, 17));
  }

  @Test
  void indexPermutationIsABijection() {
    for (long n : new long[] {1, 2, 3, 7, 64, 1000, 12345}) {
      IndexPermutation p = new IndexPermutation(n, 42);
      Set<Long> image = new HashSet<>();
      for (long i = 0; i < n; i++) {
        long v = p.apply(i);
        assertTrue(v >= 0 && v < n);
        image.add(v);
      }
      assertEquals(n, image.size());
    }
    IndexPermutation a = new IndexPermutation(1000, 1);
    IndexPermutation b = new IndexPermutation(1000, 2);
    int same = 0;
    for (int i = 0; i < 1000; i++) if (a.apply(i) == b.apply(i)) same++;
    assertTrue(same < 20, "different seeds give different orders");
  }
}
