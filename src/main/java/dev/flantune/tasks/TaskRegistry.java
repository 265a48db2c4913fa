package dev.flantune.tasks;

import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A task collection: every directory under a root that holds a {@code task.yaml}, in path order so
 * the registry (and everything seeded from it) is the same on every machine. Task names are unique.
 */
public final class TaskRegistry {
  private final Path root;
  private final Map<String, Task> byName;

  private TaskRegistry(Path root, Map<String, Task> byName) {
    this.root = root;
    this.byName = byName;
  }

  public static TaskRegistry load(Path root) {
    if (!Files.isDirectory(root)) {
      throw FlanTuneException.badInput(
          root + ": task collection not found; pass a directory of tasks (each with task.yaml)");
    }
    List<Path> dirs;
    // Follow links: collections (or the tasks in them) are often symlinked into place.
    try (Stream<Path> s = Files.walk(root, java.nio.file.FileVisitOption.FOLLOW_LINKS)) {
      dirs =
          s.filter(
                  p ->
                      p.getFileName().toString().equals(TaskLoader.TASK_YAML)
                          && Files.isRegularFile(p))
              .map(Path::getParent)
              .sorted(Comparator.comparing(Path::toString))
              .toList();
    } catch (IOException | UncheckedIOException e) {
      throw FlanTuneException.badInput(
          root + ": cannot list task directories (" + e.getMessage() + ")");
    }
    Map<String, Task> byName = new LinkedHashMap<>();
    for (Path dir : dirs) {
      Task t = TaskLoader.load(dir);
      Task before = byName.putIfAbsent(t.name(), t);
      if (before != null) {
        throw FlanTuneException.badInput(
            t.yaml() + ":1: name: task '" + t.name() + "' is also defined in " + before.yaml());
      }
    }
    if (byName.isEmpty())
      throw FlanTuneException.badInput(root + ": no task.yaml found under this directory");
    return new TaskRegistry(root, byName);
  }

  /** A registry of already-loaded tasks (tests, and callers that build tasks themselves). */
  public static TaskRegistry of(Path root, List<Task> tasks) {
    Map<String, Task> byName = new LinkedHashMap<>();
    for (Task t : tasks) byName.put(t.name(), t);
    return new TaskRegistry(root, byName);
  }

  public Path root() {
    return root;
  }

  public List<Task> tasks() {
    return List.copyOf(byName.values());
  }

  public Task task(String name) {
    Task t = byName.get(name);
    if (t == null) throw FlanTuneException.badUsage("no task named '" + name + "' in " + root);
    return t;
  }

  /** Cluster name → its tasks, clusters sorted by name. */
  public Map<String, List<Task>> clusters() {
    Map<String, List<Task>> out = new TreeMap<>();
    for (Task t : byName.values()) out.computeIfAbsent(t.cluster(), k -> new ArrayList<>()).add(t);
    return out;
  }
}
