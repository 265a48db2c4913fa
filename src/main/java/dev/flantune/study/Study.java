package dev.flantune.study;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.tasks.ClusterOverlaps;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.train.Progress;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * FLAN's two ablations (Wei et al., 2022, figures 5 and 6) as runs of {@code train} with config
 * overrides, one run directory each under the study's output directory:
 *
 * <ul>
 *   <li>{@link #heldOut}: for each chosen cluster, tune with it (and the clusters overlapping it)
 *       held out and evaluate it, base vs tuned;
 *   <li>{@link #clusterCount}: hold out a fixed set, and tune on the first 1, 2, 4, … of the other
 *       clusters in a seeded order (the rest get mixing weight 0), evaluating the held-out set.
 * </ul>
 */
public final class Study {
  private final Path config;
  private final List<String> userOverrides; // the command line's key=value, before the study's own
  private final RunConfig cfg;
  private final Path out;
  private final Progress progress;
  private final AtomicBoolean stop;

  public Study(
      Path config, List<String> overrides, Path out, Progress progress, AtomicBoolean stop) {
    this.config = config;
    this.userOverrides = List.copyOf(overrides);
    this.cfg = ConfigLoader.load(config, userOverrides);
    this.out = out;
    this.progress = progress;
    this.stop = stop;
    if (cfg.data().objective() != RunConfig.Objective.INSTRUCTION || cfg.model() == null)
      throw FlanTuneException.badUsage(
          config + ": a study needs data.objective instruction and a base model (model:)");
  }

  /** One run of a study, as the report shows it. */
  public record Point(
      String label,
      int clusterCount,
      List<String> trained,
      List<String> heldOut,
      Path dir,
      JsonNode report,
      double seconds,
      boolean reused) {}

  public List<Point> heldOut(List<String> clusters) throws IOException {
    TaskRegistry registry = TaskRegistry.load(cfg.data().tasks());
    checkClusters(registry, clusters, "--clusters");
    List<Point> points = new ArrayList<>();
    for (String c : clusters) {
      Set<String> excluded = overlaps().excludedWith(Set.of(c));
      List<String> trained = new ArrayList<>(registry.clusters().keySet());
      trained.removeAll(excluded);
      StudyRun.Done d =
          StudyRun.run(
              config,
              withUserOverrides(List.of("data.held_out=[" + c + "]")),
              out.resolve("held-out-" + c),
              progress,
              stop);
      points.add(
          new Point(
              c,
              trained.size(),
              trained,
              List.of(c),
              d.dir(),
              d.report(),
              d.seconds(),
              d.reused()));
      writeProgress(points, "held-out");
    }
    return points;
  }

  public List<Point> clusterCount(List<String> heldOut, List<Integer> counts, long seed)
      throws IOException {
    TaskRegistry registry = TaskRegistry.load(cfg.data().tasks());
    checkClusters(registry, heldOut, "--held-out");
    List<String> order = trainingOrder(registry, heldOut, seed);
    for (int k : counts) {
      if (k < 1 || k > order.size())
        throw FlanTuneException.badUsage(
            "--counts: "
                + k
                + " is not between 1 and the "
                + order.size()
                + " clusters left for training ("
                + String.join(", ", order)
                + ")");
    }
    List<Point> points = new ArrayList<>();
    for (int k : counts) {
      List<String> trained = order.subList(0, k);
      StringBuilder weights = new StringBuilder("data.weights={");
      boolean first = true;
      for (Map.Entry<String, List<Task>> c : registry.clusters().entrySet()) {
        if (trained.contains(c.getKey()) || heldOut.contains(c.getKey())) continue;
        for (Task t : c.getValue()) {
          weights.append(first ? "" : ", ").append('"').append(t.name()).append("\": 0");
          first = false;
        }
      }
      weights.append('}');
      List<String> overrides =
          List.of("data.held_out=[" + String.join(",", heldOut) + "]", weights.toString());
      StudyRun.Done d =
          StudyRun.run(
              config, withUserOverrides(overrides), out.resolve("clusters-" + k), progress, stop);
      points.add(
          new Point(
              String.valueOf(k),
              k,
              List.copyOf(trained),
              heldOut,
              d.dir(),
              d.report(),
              d.seconds(),
              d.reused()));
      writeProgress(points, "clusters");
    }
    return points;
  }

  /** The command line's overrides, then the study's own for one run (later ones win). */
  private List<String> withUserOverrides(List<String> studyOwn) {
    List<String> all = new ArrayList<>(userOverrides);
    all.addAll(studyOwn);
    return all;
  }

  /**
   * The clusters a model may train on with {@code heldOut} held out (overlaps removed), in a seeded
   * random order: the order in which the count study adds them.
   */
  List<String> trainingOrder(TaskRegistry registry, List<String> heldOut, long seed) {
    Set<String> excluded = overlaps().excludedWith(new TreeSet<>(heldOut));
    List<String> order = new ArrayList<>();
    for (String c : registry.clusters().keySet()) if (!excluded.contains(c)) order.add(c);
    Collections.sort(order);
    Collections.shuffle(order, new Random(seed));
    return order;
  }

  private ClusterOverlaps overlaps() {
    Map<String, List<String>> o = cfg.data().overlapping();
    if (o.isEmpty()) return ClusterOverlaps.flanDefault();
    List<List<String>> pairs = new ArrayList<>();
    o.forEach((c, with) -> with.forEach(w -> pairs.add(List.of(c, w))));
    return new ClusterOverlaps(pairs);
  }

  private static void checkClusters(TaskRegistry registry, List<String> names, String option) {
    if (names.isEmpty()) throw FlanTuneException.badUsage(option + ": name at least one cluster");
    for (String c : names) {
      if (!registry.clusters().containsKey(c))
        throw FlanTuneException.badUsage(
            option
                + ": no cluster '"
                + c
                + "' in "
                + registry.root()
                + " (clusters: "
                + String.join(", ", registry.clusters().keySet())
                + ")");
    }
  }

  /** The report so far after every run, so an interrupted study still shows what it has. */
  private void writeProgress(List<Point> points, String kind) throws IOException {
    Files.createDirectories(out);
    StudyReport.write(kind, config, points, out);
  }

  /** Cluster results of a run's report.json, by name. */
  static Map<String, JsonNode> clusters(JsonNode report) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    for (JsonNode c : report.get("clusters")) m.put(c.get("name").asText(), c);
    return m;
  }
}
