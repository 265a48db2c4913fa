package dev.flantune.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune tasks}: the collection at a glance. JSON: {@code {"tasks": [{name, cluster,
 * kind, metric, templates, examples: {train, validation}, source, license}], "clusters": {cluster:
 * [task names]}}}; a missing split counts 0 examples.
 */
@Command(
    name = "tasks",
    mixinStandardHelpOptions = true,
    description = "List tasks with cluster, kind, metric, templates, examples, source and license.")
final class TasksCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = "--tasks",
      defaultValue = "data/tasks",
      description = "Task collection (default: ${DEFAULT-VALUE}).")
  Path tasks;

  @Option(
      names = "--format",
      defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE}).")
  String format;

  private record Row(Task task, int train, int validation) {}

  @Override
  public Integer call() throws Exception {
    if (!format.equals("table") && !format.equals("json"))
      throw FlanTuneException.badUsage("--format must be table or json");
    TaskRegistry registry = TaskRegistry.load(tasks);
    List<Row> rows = new ArrayList<>();
    for (Task t : registry.tasks())
      rows.add(new Row(t, count(t, Task.Split.TRAIN), count(t, Task.Split.VALIDATION)));
    PrintWriter out = spec.commandLine().getOut();
    if (format.equals("json"))
      out.println(
          Jsonl.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(registry, rows)));
    else table(out, rows, registry.clusters());
    out.flush();
    return 0;
  }

  private static int count(Task t, Task.Split s) {
    return t.hasSplit(s) ? t.split(s).count() : 0;
  }

  private static ObjectNode json(TaskRegistry registry, List<Row> rows) {
    ObjectNode root = Jsonl.JSON.createObjectNode();
    ArrayNode arr = root.putArray("tasks");
    for (Row r : rows) {
      Task t = r.task;
      ObjectNode o = arr.addObject();
      o.put("name", t.name())
          .put("cluster", t.cluster())
          .put("kind", t.kind().yamlName())
          .put("metric", t.metric().yamlName())
          .put("templates", t.templates().size());
      o.putObject("examples").put("train", r.train).put("validation", r.validation);
      o.put("source", t.source()).put("license", t.license());
    }
    ObjectNode clusters = root.putObject("clusters");
    for (Map.Entry<String, List<Task>> c : registry.clusters().entrySet()) {
      ArrayNode names = clusters.putArray(c.getKey());
      for (Task t : c.getValue()) names.add(t.name());
    }
    return root;
  }

  private static void table(PrintWriter out, List<Row> rows, Map<String, List<Task>> clusters) {
    List<String[]> cells = new ArrayList<>();
    cells.add(
        new String[] {
          "CLUSTER",
          "TASK",
          "KIND",
          "METRIC",
          "TEMPLATES",
          "TRAIN",
          "VALIDATION",
          "LICENSE",
          "SOURCE"
        });
    rows.stream()
        .sorted((a, b) -> a.task.cluster().compareTo(b.task.cluster()))
        .forEach(
            r ->
                cells.add(
                    new String[] {
                      r.task.cluster(),
                      r.task.name(),
                      r.task.kind().yamlName(),
                      r.task.metric().yamlName(),
                      String.valueOf(r.task.templates().size()),
                      String.valueOf(r.train),
                      String.valueOf(r.validation),
                      r.task.license(),
                      r.task.source()
                    }));
    int[] width = new int[cells.get(0).length];
    for (String[] row : cells)
      for (int i = 0; i < row.length; i++) width[i] = Math.max(width[i], row[i].length());
    for (String[] row : cells) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        boolean number = i >= 4 && i <= 6;
        String cell =
            i == row.length - 1
                ? row[i]
                : number ? pad(row[i], width[i], true) : pad(row[i], width[i], false);
        sb.append(cell).append(i == row.length - 1 ? "" : "  ");
      }
      out.println(sb.toString().stripTrailing());
    }
    long train = rows.stream().mapToLong(r -> r.train).sum();
    long validation = rows.stream().mapToLong(r -> r.validation).sum();
    out.println();
    out.println(
        rows.size()
            + " tasks in "
            + clusters.size()
            + " clusters; "
            + train
            + " train and "
            + validation
            + " validation examples");
  }

  private static String pad(String s, int w, boolean right) {
    String fill = " ".repeat(w - s.length());
    return right ? fill + s : s + fill;
  }
}
