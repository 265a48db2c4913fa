package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.model.AttentionBias;
import dev.flantune.tasks.ExemplarPool;
import dev.flantune.tasks.Fixtures;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Loss masks token by token with the real GPT-2 tokenizer, over every template of every fixture
 * example: the masked ids decode to target + EOS and the rest to the prompt, before and after
 * padding and packing, and no attention crosses a packed boundary.
 */
class LossMaskTest {
  private static final String EOS = "<|endoftext|>";
  private static Tokenizer tok;
  private static List<Rendered> rendered;

  @BeforeAll
  static void setUp() {
    assertTrue(
        java.nio.file.Files.exists(Fixtures.GPT2),
        "GPT-2 tokenizer missing at "
            + Fixtures.GPT2
            + " (data/tokenizers/gpt2/tokenizer.json from the main tree)");
    tok = Tokenizer.load(Fixtures.GPT2);
    rendered = new ArrayList<>();
    Renderer renderer = new Renderer(RenderOptions.DEFAULTS.withShots(2));
    for (Task t : TaskRegistry.load(Fixtures.TASKS).tasks()) {
      ExemplarPool pool = ExemplarPool.of(t, 16, 0);
      for (Task.Split s : t.data().keySet()) {
        t.split(s)
            .forEach(
                e -> {
                  rendered.addAll(renderer.renderAll(t, e, List.of()));
                  rendered.add(renderer.render(t, e, renderer.templateFor(t, e), pool.pick(e, 2)));
                });
      }
    }
  }

  @AfterAll
  static void tearDown() {
    tok.close();
  }

  private static String decodeWhere(int[] ids, byte[] mask, int want) {
    int[] sel =
        java.util.stream.IntStream.range(0, ids.length)
            .filter(i -> mask[i] == want)
            .map(i -> ids[i])
            .toArray();
    return tok.decode(sel);
  }

  @Test
  void maskedIdsDecodeToTargetPlusEosAndTheRestToThePrompt() {
    ExampleTokenizer et = new ExampleTokenizer(tok, 1024);
    Truncation tr = new Truncation();
    List<Optional<TokenizedExample>> batch = et.tokenizeAll(rendered, tr);
    assertEquals(0, tr.truncated());
    assertEquals(rendered.size(), tr.examples());
    for (int i = 0; i < rendered.size(); i++) {
      Rendered r = rendered.get(i);
      TokenizedExample x = batch.get(i).orElseThrow();
      String where = r.taskName() + " template " + r.template() + " line " + r.example().line();
      assertEquals(r.target() + EOS, decodeWhere(x.ids(), x.lossMask(), 1), where);
      assertEquals(r.prompt(), decodeWhere(x.ids(), x.lossMask(), 0), where);
      // Each part tokenized separately, concatenated: exactly the contract.
      int[] expect =
          concat(tok.encode(r.prompt()), tok.encode(r.target()), new int[] {tok.eosId()});
      assertArrayEquals(expect, x.ids(), where);
      assertArrayEquals(
          x.ids(), et.tokenize(r, new Truncation()).orElseThrow().ids(), "batched == one by one");
      assertEquals(tok.encode(r.target()).length + 1, x.targetTokens(), where);
    }
  }

  @Test
  void truncationDropsThePromptStartNeverTheTargetAndIsCounted() {
    ExampleTokenizer et = new ExampleTokenizer(tok, 24);
    Truncation tr = new Truncation();
    int truncated = 0;
    int skipped = 0;
    for (Rendered r : rendered) {
      int[] p = tok.encode(r.prompt());
      int[] t = tok.encode(r.target());
      Optional<TokenizedExample> o = et.tokenize(r, tr);
      if (t.length + 2 > 24) {
        assertTrue(o.isEmpty());
        skipped++;
        continue;
      }
      TokenizedExample x = o.orElseThrow();
      assertTrue(x.length() <= 24);
      assertEquals(r.target() + EOS, decodeWhere(x.ids(), x.lossMask(), 1));
      int keep = Math.min(p.length, 24 - t.length - 1);
      assertArrayEquals(
          Arrays.copyOfRange(p, p.length - keep, p.length),
          Arrays.copyOf(x.ids(), x.promptTokens()));
      assertEquals(p.length - keep, x.droppedPromptTokens());
      if (x.truncated()) truncated++;
    }
    assertTrue(truncated > 10, "fixture prompts are long enough to truncate");
    assertEquals(truncated, tr.truncated());
    assertEquals(skipped, tr.skipped());
    assertTrue(tr.summary().contains(truncated + " truncated"));
  }

  @Test
  void packedBatchesKeepMasksExactAndAttentionInsideExamples() {
    checkBatches(Batcher.packed(tokenized().iterator(), 3, 160, tok.eosId()), true);
  }

  @Test
  void paddedBatchesKeepMasksExact() {
    checkBatches(Batcher.padded(tokenized().iterator(), 4, 0, tok.eosId()), false);
  }

  private static List<TokenizedExample> tokenized() {
    ExampleTokenizer et = new ExampleTokenizer(tok, 160);
    List<TokenizedExample> out = new ArrayList<>();
    for (Optional<TokenizedExample> o : et.tokenizeAll(rendered, new Truncation()))
      out.add(o.orElseThrow());
    return out;
  }

  /** Walks every segment of every row and matches it back to the rendered example it came from. */
  private static void checkBatches(Iterator<Batch> batches, boolean expectPacking) {
    // First-fit packing may place a later example in an earlier row, so match segments by their
    // ids.
    java.util.Map<List<Integer>, java.util.ArrayDeque<Rendered>> byIds = new java.util.HashMap<>();
    List<TokenizedExample> all = tokenized();
    for (int n = 0; n < all.size(); n++) {
      byIds
          .computeIfAbsent(
              Arrays.stream(all.get(n).ids()).boxed().toList(), k -> new java.util.ArrayDeque<>())
          .add(rendered.get(n));
    }
    int next = 0;
    int multiSegmentRows = 0;
    while (batches.hasNext()) {
      Batch b = batches.next();
      int t = b.length();
      float[] bias = AttentionBias.compute(b);
      for (int row = 0; row < b.rows(); row++) {
        int o = row * t;
        int segs = 0;
        int i = 0;
        while (i < t && b.segmentIds()[o + i] != 0) {
          int s = b.segmentIds()[o + i];
          int start = i;
          while (i < t && b.segmentIds()[o + i] == s) i++;
          segs++;
          assertEquals(segs, s, "segments are 1-based and consecutive");
          int[] ids = Arrays.copyOfRange(b.inputIds(), o + start, o + i);
          var candidates = byIds.get(Arrays.stream(ids).boxed().toList());
          assertTrue(
              candidates != null && !candidates.isEmpty(), "segment is not one whole example");
          Rendered r = candidates.poll();
          next++;
          List<Integer> predicted = new ArrayList<>();
          for (int k = start; k < i; k++) {
            assertEquals(k - start, b.positionIds()[o + k], "positions restart per example");
            if (k + 1 < i)
              assertEquals(b.inputIds()[o + k + 1], b.labels()[o + k], "labels are the next token");
            else
              assertEquals(
                  0f, b.lossMask()[o + k], "the last token of an example predicts nothing");
            if (b.lossMask()[o + k] == 1f) predicted.add(b.labels()[o + k]);
          }
          assertEquals(
              r.target() + EOS,
              tok.decode(predicted.stream().mapToInt(Integer::intValue).toArray()));
          assertEquals(r.prompt() + r.target() + EOS, tok.decode(ids));
        }
        for (int k = i; k < t; k++) {
          assertEquals(0, b.segmentIds()[o + k], "padding only at the end of a row");
          assertEquals(0f, b.lossMask()[o + k]);
        }
        if (segs > 1) multiSegmentRows++;
        for (int q = 0; q < t; q++) {
          for (int k = 0; k < t; k++) {
            int sq = b.segmentIds()[o + q];
            boolean expected = sq != 0 && sq == b.segmentIds()[o + k] && k <= q;
            assertEquals(
                expected,
                AttentionBias.allowed(bias, b, row, q, k),
                "row " + row + " q " + q + " k " + k);
          }
        }
      }
    }
    assertEquals(rendered.size(), next, "every example appears exactly once");
    assertEquals(expectPacking, multiSegmentRows > 0);
  }

  private static int[] concat(int[]... parts) {
    int n = 0;
    for (int[] p : parts) n += p.length;
    int[] out = new int[n];
    int o = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, out, o, p.length);
      o += p.length;
    }
    return out;
  }

  @Test
  void renderedExamplesCoverEveryFixtureTemplate() {
    assertFalse(rendered.isEmpty());
    long distinct =
        rendered.stream().map(r -> r.taskName() + "#" + r.template()).distinct().count();
    assertEquals(15, distinct);
    assertTrue(rendered.stream().anyMatch(r -> r.shots() == 2));
  }
}
