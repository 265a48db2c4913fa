package dev.flantune.tasks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The training rendering's mix of zero- and few-shot prompts ({@code data.shots: [0, 2]}): each
 * example draws its exemplar count by its identity, exemplars come from the same task's train split
 * and never repeat the example, and the default {@code 0} renders exactly as zero-shot always did.
 */
class FewShotTrainingTest {
  private final TaskRegistry shipped = TaskRegistry.load(Fixtures.SHIPPED_TASKS);
  private final Task imdb = shipped.task("uci_sentiment_imdb");

  private List<Example> train(Task t) {
    List<Example> out = new ArrayList<>();
    t.split(Task.Split.TRAIN).forEach(out::add);
    return out;
  }

  @Test
  void aMixRendersAboutTheShareOfFewShotPromptsItNames() {
    Renderer mixed = new Renderer(RenderOptions.DEFAULTS.withShotMix(List.of(0, 2)).withSeed(3));
    List<Example> examples = train(imdb);
    int fewShot = 0;
    for (Example e : examples) {
      Rendered r = mixed.render(imdb, e);
      List<Example> exemplars = mixed.exemplarsFor(imdb, e);
      assertTrue(r.shots() == 0 || r.shots() == 2, "shots " + r.shots());
      assertEquals(exemplars.size(), r.shots(), "the short IMDb prompts fit the token budget");
      if (r.shots() == 0) {
        assertEquals(
            mixed.render(imdb, e, mixed.templateFor(imdb, e), List.of()).prompt(), r.prompt());
        continue;
      }
      fewShot++;
      for (Example x : exemplars) {
        assertNotEquals(e.line(), x.line(), "an example is never its own exemplar");
        assertTrue(r.prompt().contains(x.fields().get("sentence")), "exemplar text in the prompt");
      }
      assertTrue(r.prompt().endsWith(mixed.prompt(imdb, e, mixed.templateFor(imdb, e))));
      assertTrue(
          r.prompt().contains(mixed.options().exemplarDelimiter()), "exemplars are delimited");
    }
    double share = fewShot / (double) examples.size();
    assertTrue(share > 0.4 && share < 0.6, "few-shot share " + share + " of " + examples.size());
  }

  @Test
  void theDrawIsSeededAndReproducible() {
    Renderer a = new Renderer(RenderOptions.DEFAULTS.withShotMix(List.of(0, 1, 3)).withSeed(7));
    Renderer b = new Renderer(RenderOptions.DEFAULTS.withShotMix(List.of(0, 1, 3)).withSeed(7));
    Renderer c = new Renderer(RenderOptions.DEFAULTS.withShotMix(List.of(0, 1, 3)).withSeed(8));
    int differ = 0;
    for (Example e : train(imdb)) {
      assertEquals(a.render(imdb, e).prompt(), b.render(imdb, e).prompt());
      if (!a.render(imdb, e).prompt().equals(c.render(imdb, e).prompt())) differ++;
    }
    assertTrue(differ > 100, "another seed draws other counts and exemplars: " + differ);
  }

  @Test
  void theDefaultIsZeroShotThroughout() {
    Renderer plain = new Renderer(RenderOptions.DEFAULTS.withSeed(3));
    for (Example e : train(imdb)) {
      Rendered r = plain.render(imdb, e);
      assertEquals(0, r.shots());
      assertEquals(plain.prompt(imdb, e, plain.templateFor(imdb, e)), r.prompt());
    }
  }

  @Test
  void configAcceptsACountOrAListAndRefusesNegatives(@TempDir Path dir) throws IOException {
    Path cfg = dir.resolve("c.yaml");
    Files.writeString(
        cfg,
        "init: {tokenizer: "
            + Fixtures.GPT2.toAbsolutePath()
            + ", layers: 1, heads: 1, embd: 8, positions: 16}\ndata: {tasks: "
            + Fixtures.TASKS.toAbsolutePath()
            + "}\n");
    assertEquals(List.of(0), ConfigLoader.load(cfg, List.of()).data().shots());
    assertEquals(List.of(2), ConfigLoader.load(cfg, List.of("data.shots=2")).data().shots());
    RunConfig mixed = ConfigLoader.load(cfg, List.of("data.shots=[0, 2]"));
    assertEquals(List.of(0, 2), mixed.data().shots());
    assertEquals(List.of(0, 2), RenderOptions.of(mixed).shotMix());
    assertTrue(RenderOptions.of(mixed).fewShotTraining());
    FlanTuneException bad =
        assertThrows(
            FlanTuneException.class, () -> ConfigLoader.load(cfg, List.of("data.shots=[0, -1]")));
    assertTrue(bad.getMessage().contains("data.shots"), bad.getMessage());
    FlanTuneException empty =
        assertThrows(
            FlanTuneException.class, () -> ConfigLoader.load(cfg, List.of("data.shots=[]")));
    assertTrue(empty.getMessage().contains("data.shots"), empty.getMessage());
  }
}
