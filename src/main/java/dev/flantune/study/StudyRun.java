package dev.flantune.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.config.ConfigLoader;
import dev.flantune.config.ConfigTree;
import dev.flantune.config.RunConfig;
import dev.flantune.report.Reports;
import dev.flantune.train.Progress;
import dev.flantune.train.RunDir;
import dev.flantune.train.TrainRecipe;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One training run of a study: reused when its held-out report exists, resumed from its newest
 * checkpoint when it was interrupted (the train --resume machinery, bit for bit), started
 * otherwise. Its wall time is kept in {@code study-run.json} beside the run, so a reused run still
 * reports how long it took.
 */
final class StudyRun {
  static final String TIMING = "study-run.json";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper YAML =
      new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());

  private StudyRun() {}

  /** A finished run: its report.json and the seconds it took (training and evaluation). */
  record Done(Path dir, JsonNode report, double seconds, boolean reused) {}

  static Done run(
      Path config, List<String> overrides, Path dir, Progress progress, AtomicBoolean stop)
      throws IOException {
    Path report = dir.resolve("eval").resolve(Reports.JSON);
    Path timing = dir.resolve(TIMING);
    RunConfig cfg = ConfigLoader.load(config, overrides);
    String resolved = ConfigTree.yaml(cfg);
    requireSameConfig(dir, resolved);
    if (Files.isRegularFile(report) && Files.isRegularFile(timing)) {
      progress.note("study: reusing the finished run " + dir);
      return new Done(
          dir,
          JSON.readTree(report.toFile()),
          JSON.readTree(timing.toFile()).get("seconds").asDouble(),
          true);
    }
    boolean resume = new RunDir(dir).isNonEmpty();
    Path partial = dir.resolve(TIMING + ".partial");
    double before =
        Files.isRegularFile(partial)
            ? JSON.readTree(partial.toFile()).get("seconds").asDouble()
            : 0;
    progress.note((resume ? "study: resuming " : "study: starting ") + dir + " " + overrides);
    long t0 = System.nanoTime();
    TrainRecipe.Summary s = new TrainRecipe(cfg, resolved, progress, stop).run(dir, resume);
    double seconds = before + (System.nanoTime() - t0) / 1e9;
    ObjectNode t = JSON.createObjectNode().put("seconds", seconds);
    t.putPOJO("overrides", overrides);
    if (s.outcome().stopped()) {
      // Time spent so far counts when the run resumes; the report is not there yet.
      Files.writeString(partial, t.toString());
      throw new FlanTuneException(
          FlanTuneException.Kind.RUN_FAILED,
          "study stopped in " + dir + "; run the same study command again to resume it");
    }
    if (s.heldOut() == null)
      throw FlanTuneException.badUsage(
          config + ": the study's runs need data.objective instruction and a held-out cluster");
    Files.writeString(timing, t.toString());
    Files.deleteIfExists(partial);
    return new Done(dir, JSON.readTree(report.toFile()), seconds, false);
  }

  /**
   * A run directory left by an earlier invocation is reused or resumed only if it was made with the
   * config this invocation would use: after an edit of the config (more steps, another base) its
   * scores would otherwise be reported as the new config's.
   */
  static void requireSameConfig(Path dir, String resolved) throws IOException {
    Path earlier = dir.resolve("config.resolved.yaml");
    if (!Files.isRegularFile(earlier)) return;
    JsonNode was = YAML.readTree(Files.readString(earlier)), now = YAML.readTree(resolved);
    String field = firstDifference("", was, now, ConfigTree.defaults());
    if (field == null) return;
    throw FlanTuneException.badUsage(
        dir
            + " was run with a different config ("
            + field
            + "); delete that run directory to redo it with this config, or pass a new --out");
  }

  /**
   * The dotted path of the first field whose value differs (null when none does). A scalar equals
   * the one-item list of it (the config accepts either), and a key the earlier run did not have yet
   * equals its default (a newer version's new option, left at the old behaviour).
   */
  static String firstDifference(String path, JsonNode was, JsonNode now, JsonNode defaults) {
    if (was == null && now != null && now.equals(defaults)) return null;
    if (was == null || now == null || !was.isObject() || !now.isObject()) {
      if (sameValue(was, now)) return null;
      return path
          + ": "
          + (was == null ? "absent" : was.toString())
          + " then, "
          + (now == null ? "absent" : now.toString())
          + " now";
    }
    java.util.Set<String> names = new java.util.TreeSet<>();
    was.fieldNames().forEachRemaining(names::add);
    now.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      String d =
          firstDifference(
              path.isEmpty() ? name : path + "." + name,
              was.get(name),
              now.get(name),
              defaults == null ? null : defaults.get(name));
      if (d != null) return d;
    }
    return null;
  }

  private static boolean sameValue(JsonNode a, JsonNode b) {
    if (java.util.Objects.equals(a, b)) return true;
    if (a == null || b == null) return false;
    if (a.isArray() && a.size() == 1 && !b.isArray()) return a.get(0).equals(b);
    if (b.isArray() && b.size() == 1 && !a.isArray()) return b.get(0).equals(a);
    return false;
  }
}
