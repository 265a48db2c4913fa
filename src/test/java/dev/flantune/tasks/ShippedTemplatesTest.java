package dev.flantune.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every template of every task renders: the fixture collection and, when present, the shipped
 * collection under data/tasks. Per task: all templates over the first examples of each split, and
 * for classification the target of every option; with sentinel field values (which contain no
 * braces), the rendered text must contain no brace at all, so no stray placeholder text can ship.
 */
class ShippedTemplatesTest {
  private static final int EXAMPLES_PER_SPLIT = 50;
  private static final Pattern PLACEHOLDER = Pattern.compile("\\{[A-Za-z_][A-Za-z0-9_]*\\}");

  @TestFactory
  Stream<DynamicTest> everyTemplateOfEveryTaskRenders() {
    List<Path> roots = new ArrayList<>(List.of(Fixtures.TASKS));
    if (Files.isDirectory(Fixtures.SHIPPED_TASKS)) roots.add(Fixtures.SHIPPED_TASKS);
    return roots.stream()
        .flatMap(
            root ->
                TaskRegistry.load(root).tasks().stream()
                    .map(t -> DynamicTest.dynamicTest(root + ": " + t.name(), () -> check(t))));
  }

  private static void check(Task task) {
    assertFalse(task.templates().isEmpty());
    Renderer renderer = new Renderer(RenderOptions.DEFAULTS);
    int rendered = 0;
    for (Task.Split split : task.data().keySet()) {
      List<Example> examples = new ArrayList<>();
      try {
        task.split(split)
            .forEach(
                e -> {
                  examples.add(e);
                  if (examples.size() == EXAMPLES_PER_SPLIT)
                    throw new IllegalStateException("enough");
                });
      } catch (IllegalStateException enough) {
        // only the first examples; full files are validated by loading in the trainer
      }
      assertFalse(examples.isEmpty(), task.name() + " " + split + " split is empty");
      for (Example e : examples) {
        for (Rendered r : renderer.renderAll(task, e, List.of())) {
          assertFalse(r.prompt().isBlank(), where(task, r));
          assertFalse(r.target().isBlank(), where(task, r));
          assertNoLeftoverPlaceholder(task, r, r.prompt());
          assertNoLeftoverPlaceholder(task, r, r.target());
          rendered++;
        }
        if (task.kind() == Task.Kind.CLASSIFICATION) {
          assertTrue(e.options().contains(e.answer()));
          for (int t = 0; t < task.templates().size(); t++) {
            if (task.template(t).turned()) continue;
            for (String option : e.options()) {
              String target = renderer.renderTargetFor(task, e, t, option);
              assertTrue(
                  target.contains(option),
                  task.name() + " template " + t + ": option '" + option + "'");
            }
          }
        }
      }
      sentinelRender(task, examples.get(0));
    }
    assertTrue(rendered > 0);
  }

  /** With brace-free sentinel values for every field, no brace may survive rendering. */
  private static void sentinelRender(Task task, Example proto) {
    Map<String, String> fields = new HashMap<>();
    for (String k : proto.fields().keySet()) fields.put(k, "X");
    List<String> options =
        proto.options().isEmpty() ? List.of() : proto.options().stream().map(o -> "O").toList();
    Example e = new Example(proto.task(), proto.file(), proto.line(), 0, fields, options);
    for (Rendered r : new Renderer(RenderOptions.DEFAULTS).renderAll(task, e, List.of())) {
      String text = r.prompt() + r.target();
      assertFalse(
          text.contains("{") || text.contains("}"), where(task, r) + ": brace left in " + text);
    }
  }

  private static void assertNoLeftoverPlaceholder(Task task, Rendered r, String text) {
    var m = PLACEHOLDER.matcher(text);
    while (m.find()) {
      String name = m.group().substring(1, m.group().length() - 1);
      // A placeholder-looking string may legitimately come from the example's own text.
      boolean fromData =
          r.example().fields().values().stream().anyMatch(v -> v.contains(m.group()))
              || r.example().options().stream().anyMatch(v -> v.contains(m.group()));
      assertTrue(fromData, where(task, r) + ": leftover {" + name + "}");
    }
  }

  private static String where(Task task, Rendered r) {
    return task.name()
        + " template "
        + r.template()
        + " at "
        + r.example().file()
        + ":"
        + r.example().line();
  }

  @org.junit.jupiter.api.Test
  void fixtureCollectionIsWhatTheTestsExpect() {
    int templates = 0;
    for (Task t : TaskRegistry.load(Fixtures.TASKS).tasks()) templates += t.templates().size();
    assertEquals(15, templates);
  }
}
