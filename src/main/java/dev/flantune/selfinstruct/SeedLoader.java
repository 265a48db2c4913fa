package dev.flantune.selfinstruct;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tasks.Template;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads seed tasks from a Self-Instruct seed JSONL file ({@code instruction}, {@code instances:
 * [{input, output}]}, {@code is_classification}) or from a flan-tune task collection.
 *
 * <p>From a collection, each task gives one seed: its most instruction-like template (the
 * non-turned template with the most literal text, the first on ties) rendered on the shortest of
 * the task's first 20 examples (train split, else validation). The rendered prompt becomes the
 * instruction, the rendered target the one instance's output, with an empty input: FLAN templates
 * fold the input into the instruction. A classification task gives a classification seed.
 */
public final class SeedLoader {
  /** A task's seed is rendered on the shortest of its first this-many examples. */
  static final int SHORTEST_OF = 20;

  private SeedLoader() {}

  /** A file is read as seed JSONL; a directory as a task collection. */
  public static List<SeedTask> load(Path seeds) {
    if (Files.isDirectory(seeds)) return fromCollection(TaskRegistry.load(seeds));
    if (!Files.isRegularFile(seeds))
      throw FlanTuneException.badInput(
          seeds + ": seeds not found; pass a seed JSONL file or a task collection directory");
    return fromJsonl(seeds);
  }

  static List<SeedTask> fromJsonl(Path file) {
    List<SeedTask> out = new ArrayList<>();
    Jsonl.forEach(file, line -> out.add(seed(line)));
    if (out.isEmpty()) throw FlanTuneException.badInput(file + ": no seed tasks in this file");
    return out;
  }

  private static SeedTask seed(Jsonl.Line line) {
    String instruction = line.requireString("instruction");
    if (instruction.isBlank())
      throw FlanTuneException.badInput(line.where() + ": field 'instruction' is empty");
    JsonNode clf = line.object().get("is_classification");
    if (clf != null && !clf.isBoolean())
      throw FlanTuneException.badInput(
          line.where() + ": field 'is_classification' must be true or false");
    JsonNode instances = line.object().get("instances");
    if (instances == null || !instances.isArray() || instances.isEmpty())
      throw FlanTuneException.badInput(
          line.where() + ": field 'instances' must be a non-empty list of {input, output}");
    List<SeedTask.Instance> list = new ArrayList<>();
    for (int i = 0; i < instances.size(); i++) {
      JsonNode inst = instances.get(i);
      String at = line.where() + ": field 'instances[" + i + "]";
      if (!inst.isObject() || !inst.path("output").isTextual())
        throw FlanTuneException.badInput(at + "' must be an object with a string 'output'");
      JsonNode input = inst.get("input");
      if (input != null && !input.isTextual())
        throw FlanTuneException.badInput(at + ".input' must be a string");
      list.add(
          new SeedTask.Instance(
              input == null ? "" : input.textValue(), inst.get("output").textValue()));
    }
    return new SeedTask(instruction.strip(), clf != null && clf.booleanValue(), list);
  }

  static List<SeedTask> fromCollection(TaskRegistry registry) {
    Renderer renderer = new Renderer(RenderOptions.DEFAULTS);
    List<SeedTask> out = new ArrayList<>();
    for (Task task : registry.tasks()) {
      Task.Split split = task.hasSplit(Task.Split.TRAIN) ? Task.Split.TRAIN : Task.Split.VALIDATION;
      int t = mostInstructionLike(task);
      Rendered r = null;
      // The shortest rendering among the first examples: the prompts hold 8 seeds in a small
      // context.
      for (Example ex : task.split(split).first(SHORTEST_OF)) {
        Rendered candidate = renderer.render(task, ex, t, List.of());
        if (r == null || candidate.prompt().length() < r.prompt().length()) r = candidate;
      }
      out.add(
          new SeedTask(
              r.prompt().strip(),
              task.kind() == Task.Kind.CLASSIFICATION,
              List.of(new SeedTask.Instance("", r.target().strip()))));
    }
    return out;
  }

  /** The non-turned template with the most literal (non-placeholder) characters. */
  static int mostInstructionLike(Task task) {
    int best = -1, bestLength = -1;
    for (Template tpl : task.templates()) {
      if (tpl.turned()) continue;
      int literal = 0;
      for (Template.Part p : tpl.inputParts()) if (!p.field()) literal += p.text().strip().length();
      if (literal > bestLength) {
        best = tpl.index();
        bestLength = literal;
      }
    }
    return best < 0 ? 0 : best;
  }
}
