package dev.flantune.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RendererTest {
  private final TaskRegistry reg = TaskRegistry.load(Fixtures.TASKS);
  private final Task sentiment = reg.task("tiny_sentiment");

  private List<Example> examples(Task t, Task.Split s) {
    List<Example> out = new ArrayList<>();
    t.split(s).forEach(out::add);
    return out;
  }

  @Test
  void zeroShotIsTheTemplateWithFlansOptionsBlockAndASeparator() {
    Example e = examples(sentiment, Task.Split.TRAIN).get(0);
    Rendered r = new Renderer(RenderOptions.DEFAULTS).render(sentiment, e, 0, List.of());
    assertEquals(
        "A warm, funny film.\n\nIs this review positive or negative?\n\nOPTIONS:\n- negative\n- positive\n",
        r.prompt());
    assertEquals("positive", r.target());
    // A prompt ending in whitespace gets no extra separator.
    Task qa = reg.task("tiny_qa");
    Rendered q =
        new Renderer(RenderOptions.DEFAULTS)
            .render(qa, examples(qa, Task.Split.TRAIN).get(0), 1, List.of());
    assertEquals("Q: What is the capital of France?\nA:\n", q.prompt());
  }

  @Test
  void perExampleOptionsKeepTheirOrder() {
    Task mc = reg.task("tiny_mc");
    Example e = examples(mc, Task.Split.VALIDATION).get(0);
    Rendered r = new Renderer(RenderOptions.DEFAULTS).render(mc, e, 1, List.of());
    assertEquals(
        "Pick the best answer. What falls from clouds?\nOPTIONS:\n- rain\n- sand\n", r.prompt());
    assertEquals("The answer is rain.", r.target());
  }

  @Test
  void templateAssignmentIsSeededReproducibleAndCoversAllTemplates() {
    Renderer a = new Renderer(RenderOptions.DEFAULTS.withSeed(1));
    Renderer b = new Renderer(RenderOptions.DEFAULTS.withSeed(1));
    Renderer c = new Renderer(RenderOptions.DEFAULTS.withSeed(2));
    List<Example> train = examples(sentiment, Task.Split.TRAIN);
    List<Integer> ta = new ArrayList<>();
    List<Integer> tc = new ArrayList<>();
    for (Example e : train) {
      ta.add(a.templateFor(sentiment, e));
      assertEquals(a.templateFor(sentiment, e), b.templateFor(sentiment, e));
      tc.add(c.templateFor(sentiment, e));
    }
    assertNotEquals(ta, tc);
    // Over many synthetic identities every template gets used, roughly uniformly.
    int[] counts = new int[sentiment.templates().size()];
    Example proto = train.get(0);
    for (int line = 1; line <= 4000; line++) {
      Example e = new Example(proto.task(), proto.file(), line, 0, proto.fields(), proto.options());
      counts[a.templateFor(sentiment, e)]++;
    }
    for (int n : counts) assertTrue(n > 850 && n < 1150, java.util.Arrays.toString(counts));
  }

  @Test
  void renderAllGivesEveryTemplateAndTargetsForEachOption() {
    Renderer r = new Renderer(RenderOptions.DEFAULTS);
    Example e = examples(sentiment, Task.Split.VALIDATION).get(1);
    List<Rendered> all = r.renderAll(sentiment, e, List.of());
    assertEquals(4, all.size());
    for (int t = 0; t < 4; t++) assertEquals(t, all.get(t).template());
    assertEquals("Write a negative review.\n", all.get(3).prompt());
    assertEquals("Boring.", all.get(3).target());
    assertEquals(
        "The writer's opinion is positive.", r.renderTargetFor(sentiment, e, 2, "positive"));
    assertEquals("negative", r.renderTargetFor(sentiment, e, 0, "negative"));
    assertEquals(r.prompt(sentiment, e, 2), all.get(2).prompt());
  }

  @Test
  void kShotUsesTrainExemplarsThroughTheSameTemplateWithinABudget() {
    ExemplarPool pool = ExemplarPool.of(sentiment, 64, 0);
    assertEquals(12, pool.size());
    Example q = examples(sentiment, Task.Split.TRAIN).get(0);
    List<Example> ex = pool.pick(q, 3);
    assertEquals(3, ex.size());
    assertEquals(3, new HashSet<>(ex).size());
    for (Example x : ex) assertNotEquals(q.line(), x.line(), "a train query never sees itself");
    assertEquals(ex, pool.pick(q, 3));
    Renderer r = new Renderer(RenderOptions.DEFAULTS.withShots(3));
    Rendered k = r.render(sentiment, q, 1, ex);
    assertEquals(3, k.shots());
    String[] blocks = k.prompt().split("\n\n", -1);
    assertEquals(4, blocks.length, k.prompt());
    assertEquals(
        "Review: "
            + ex.get(0).fields().get("sentence")
            + "\nWhat is the sentiment of this review?\n"
            + "OPTIONS:\n- negative\n- positive\n"
            + ex.get(0).answer(),
        blocks[0]);
    assertTrue(k.prompt().endsWith("\n\n" + r.prompt(sentiment, q, 1)));
    // A budget that fits the query and about one exemplar keeps the one nearest the query.
    int queryChars = r.prompt(sentiment, q, 1).length();
    int nearest = blocks[2].length() + 2;
    RenderOptions tight =
        new RenderOptions(
            OptionsFormat.Policy.FLAN_ONLY, "\n", 3, List.of(0), "\n\n", queryChars + nearest, 0);
    Rendered one = new Renderer(tight, String::length).render(sentiment, q, 1, ex);
    assertEquals(1, one.shots());
    assertTrue(
        one.prompt().startsWith("Review: " + ex.get(2).fields().get("sentence")), one.prompt());
  }

  @Test
  void randomizedOptionsFormatIsReproduciblePerExample() {
    RenderOptions opts =
        RenderOptions.DEFAULTS.withOptionsFormat(
            OptionsFormat.Policy.randomAmong(OptionsFormat.FLAN_COLLECTION));
    Set<String> headers = new HashSet<>();
    Example proto = examples(sentiment, Task.Split.TRAIN).get(0);
    for (int line = 1; line <= 100; line++) {
      Example e = new Example(proto.task(), proto.file(), line, 0, proto.fields(), proto.options());
      String p1 = new Renderer(opts).render(sentiment, e, 0, List.of()).prompt();
      assertEquals(p1, new Renderer(opts).render(sentiment, e, 0, List.of()).prompt());
      headers.add(p1.split("\n")[4]);
    }
    assertTrue(headers.size() > 5, headers.toString());
  }
}
