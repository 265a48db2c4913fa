package dev.flantune.selfinstruct;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loop with a scripted model: seeding, stopping, counting, resuming, the prompts it sends. */
class SelfInstructTest {
  @TempDir Path dir;

  static final String[] VERBS = {"Describe", "Explain", "Compare", "Summarize", "Classify", "List"};
  static final String[] NOUNS = {
    "river",
    "engine",
    "poem",
    "election",
    "recipe",
    "planet",
    "market",
    "protein",
    "storm",
    "bridge",
    "violin",
    "glacier",
    "language",
    "virus",
    "castle",
    "harvest"
  };

  /**
   * A deterministic stand-in for a model: instruction lists drawn from the request's seed (some
   * repeats, some blacklisted, some cut by the token limit), "Yes" for instructions that start with
   * Classify, and instances in the format each prompt asks for.
   */
  static final class ScriptedSampler implements TextSampler {
    final List<Request> seen = new ArrayList<>();
    Runnable afterCall = () -> {};
    boolean silent;

    @Override
    public List<Completion> complete(List<Request> batch) {
      List<Completion> out = new ArrayList<>();
      for (Request r : batch) {
        seen.add(r);
        out.add(silent ? new Completion("", Finish.STOP, 1, false) : answer(r));
      }
      afterCall.run();
      return out;
    }

    private static Completion answer(Request r) {
      SplittableRandom rng = new SplittableRandom(r.seed());
      String p = r.prompt();
      if (p.startsWith("Come up with a series")) {
        StringBuilder sb = new StringBuilder(" ");
        int items = 2 + rng.nextInt(4);
        for (int i = 0; i < items; i++) {
          if (i > 0) sb.append('\n').append(9 + i).append(". ");
          int kind = rng.nextInt(10);
          if (kind == 0) sb.append("Draw a picture of the sea.");
          else
            sb.append(VERBS[rng.nextInt(VERBS.length)])
                .append(" the ")
                .append(NOUNS[rng.nextInt(NOUNS.length)])
                .append(" and the ")
                .append(NOUNS[rng.nextInt(NOUNS.length)])
                .append('.');
        }
        boolean cut = rng.nextInt(4) == 0;
        if (cut) sb.append("\n").append(9 + items).append(". Explain the");
        return new Completion(sb.toString(), cut ? Finish.LENGTH : Finish.STOP, 20, false);
      }
      String task = lastTask(p);
      if (p.endsWith("Is it classification?"))
        return new Completion(task.startsWith("Classify") ? " Yes" : " No", Finish.STOP, 1, false);
      if (p.endsWith("Class label:"))
        return new Completion(
            " Good\nInput: a " + task + "\nClass label: Bad\nInput: not a " + task,
            Finish.STOP,
            12,
            false);
      // input-first; now and then an empty output, which leaves the instruction without instances
      if (rng.nextInt(5) == 0) return new Completion("Output:", Finish.STOP, 2, false);
      return new Completion(
          "Example 1\nInput: " + task + "\nOutput: about " + task.length() + " characters",
          Finish.STOP,
          15,
          false);
    }

    static String lastTask(String prompt) {
      Matcher m = Pattern.compile("Task: ([^\n]*)").matcher(prompt);
      String last = "";
      while (m.find()) last = m.group(1);
      return last;
    }
  }

  static List<SeedTask> seeds() {
    List<SeedTask> out = new ArrayList<>();
    String[] s = {
      "Suggest a breakfast for a busy morning.",
      "Is the review positive or negative?",
      "Translate the sentence into French.",
      "Give three synonyms for the word happy.",
      "Write a short poem about the sea.",
      "What is the capital of the country?",
      "Sort the numbers from smallest to largest.",
      "Explain how a bicycle works to a child.",
      "Name a famous painter from Spain."
    };
    for (String i : s) out.add(new SeedTask(i, false, List.of(new SeedTask.Instance("", "x"))));
    return out;
  }

  SelfInstruct.Outcome run(
      Path out, TextSampler sampler, int n, int max, long seed, AtomicBoolean stop)
      throws Exception {
    Files.createDirectories(out);
    SelfInstruct.Options o = new SelfInstruct.Options(n, max, seed, 3, 0.7, 0.5, 64, 64);
    SelfInstruct si =
        new SelfInstruct(
            sampler, seeds(), o, new PoolStore(out), stop, new PrintWriter(new StringWriter()));
    return si.run();
  }

  static List<String> instructions(SelfInstruct.Outcome o) {
    return o.kept().stream().map(SeedTask::instruction).toList();
  }

  @Test
  void theSameSeedGivesTheSamePoolAndAnotherSeedAnother() throws Exception {
    var a = run(dir.resolve("a"), new ScriptedSampler(), 12, 200, 1, new AtomicBoolean());
    var b = run(dir.resolve("b"), new ScriptedSampler(), 12, 200, 1, new AtomicBoolean());
    var c = run(dir.resolve("c"), new ScriptedSampler(), 12, 200, 2, new AtomicBoolean());
    assertEquals(SelfInstruct.End.REACHED, a.end());
    assertEquals(12, a.kept().size());
    assertEquals(a.kept(), b.kept());
    assertNotEquals(instructions(a), instructions(c));
    assertEquals(
        Files.readString(dir.resolve("a/pool.jsonl")),
        Files.readString(dir.resolve("b/pool.jsonl")));
  }

  @Test
  void everyCandidateIsCountedOnceAndEveryKeptOnePassedEveryFilter() throws Exception {
    var o = run(dir, new ScriptedSampler(), 1000, 60, 3, new AtomicBoolean());
    Tally t = o.tally();
    assertEquals(SelfInstruct.End.MAX_CANDIDATES, o.end());
    assertEquals(60, t.get(Tally.Stage.CANDIDATE_INSTRUCTIONS));
    long rejectedEarly = 0;
    for (Rejection r : Rejection.values())
      if (!r.ofInstance() && r != Rejection.NO_VALID_INSTANCES) rejectedEarly += t.get(r);
    long passed = t.get(Tally.Stage.PASSED_INSTRUCTION_FILTERS);
    assertEquals(60, rejectedEarly + passed);
    assertEquals(passed, o.kept().size() + t.get(Rejection.NO_VALID_INSTANCES));
    assertTrue(t.get(Rejection.BLACKLISTED_KEYWORD) > 0, "the script draws pictures");
    assertTrue(t.get(Rejection.ROUGE_L_TOO_SIMILAR) + t.get(Rejection.DUPLICATE_INSTRUCTION) > 0);
    assertTrue(t.get(Rejection.NO_VALID_INSTANCES) > 0);
    assertEquals(t.get(Rejection.NO_VALID_INSTANCES), t.get(Rejection.EMPTY_OUTPUT));
    long histogram = 0;
    for (long c : t.rougeHistogram()) histogram += c;
    assertEquals(passed + t.get(Rejection.ROUGE_L_TOO_SIMILAR), histogram);
    // Kept instructions: pairwise ROUGE-L below the threshold, and below it against the seeds.
    RougePool pool = new RougePool();
    for (SeedTask s : seeds()) pool.add(s.instruction());
    for (SeedTask k : o.kept()) {
      assertTrue(pool.maxRougeL(k.instruction()) < SelfInstruct.ROUGE_L_THRESHOLD, k.instruction());
      assertNull(new InstructionFilter().check(k.instruction()));
      pool.add(k.instruction());
    }
  }

  @Test
  void promptsHoldSixSeedsAndTwoGeneratedOnceThereAreTwo() throws Exception {
    ScriptedSampler s = new ScriptedSampler();
    var o = run(dir, s, 20, 400, 4, new AtomicBoolean());
    List<String> seedTexts = seeds().stream().map(SeedTask::instruction).toList();
    List<String> kept = instructions(o);
    int withGenerated = 0;
    for (TextSampler.Request r : s.seen) {
      if (!r.prompt().startsWith("Come up with a series")) continue;
      String[] lines = r.prompt().split("\n");
      assertEquals(10, lines.length, r.prompt()); // header, 8 numbered items, "9."
      assertEquals("9.", lines[9]);
      int seedsIn = 0, generatedIn = 0;
      for (int i = 1; i <= 8; i++) {
        assertTrue(lines[i].startsWith(i + ". "), lines[i]);
        String item = lines[i].substring((i + ". ").length());
        if (seedTexts.contains(item)) seedsIn++;
        else if (kept.contains(item)) generatedIn++;
      }
      assertEquals(8, seedsIn + generatedIn);
      assertTrue(generatedIn == 0 || (generatedIn == 2 && seedsIn == 6), r.prompt());
      withGenerated += generatedIn > 0 ? 1 : 0;
      assertEquals(0.7, r.temperature());
      assertEquals(0.5, r.topP());
    }
    assertTrue(withGenerated > 0);
    // Classification instructions got output-first prompts, the rest input-first.
    for (TextSampler.Request r : s.seen) {
      String task = ScriptedSampler.lastTask(r.prompt());
      if (r.prompt().endsWith("Class label:")) assertTrue(task.startsWith("Classify"), task);
      else if (r.prompt().endsWith(task + "\n")) assertFalse(task.startsWith("Classify"), task);
    }
    assertTrue(o.kept().stream().anyMatch(SeedTask::isClassification));
    SeedTask clf = o.kept().stream().filter(SeedTask::isClassification).findFirst().orElseThrow();
    assertEquals(
        List.of("Good", "Bad"), clf.instances().stream().map(SeedTask.Instance::output).toList());
  }

  @Test
  void aModelThatSaysNothingStopsAfterTheRoundBound() throws Exception {
    ScriptedSampler s = new ScriptedSampler();
    s.silent = true;
    var o = run(dir, s, 5, 10, 0, new AtomicBoolean());
    assertEquals(SelfInstruct.End.MAX_CANDIDATES, o.end());
    assertEquals(4, o.rounds()); // ⌈10 / 3⌉
    assertTrue(o.kept().isEmpty());
  }

  @Test
  void anInterruptedRunResumesToTheUninterruptedPoolEvenAfterATornWrite() throws Exception {
    var whole = run(dir.resolve("whole"), new ScriptedSampler(), 15, 300, 9, new AtomicBoolean());
    Path out = dir.resolve("parts");
    AtomicBoolean stop = new AtomicBoolean();
    ScriptedSampler first = new ScriptedSampler();
    int[] calls = {0};
    first.afterCall = () -> stop.set(++calls[0] >= 5); // stop requested in round 2
    var part = run(out, first, 15, 300, 9, stop);
    assertEquals(SelfInstruct.End.INTERRUPTED, part.end());
    assertTrue(part.kept().size() < 15);
    // A crash in the next round: one of its lines written, and a torn one after it.
    Files.writeString(
        out.resolve(PoolStore.POOL),
        "{\"round\": "
            + part.rounds()
            + ", \"instruction\": \"Half done.\", \"instances\": []}\n{\"round\": 9, \"instr",
        StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    PoolStore store = new PoolStore(out);
    PoolStore.Saved saved = store.resume();
    assertEquals(part.rounds(), saved.roundsDone());
    assertEquals(part.kept(), saved.kept().stream().map(PoolStore.Kept::task).toList());
    SelfInstruct.Options o = new SelfInstruct.Options(15, 300, 9, 3, 0.7, 0.5, 64, 64);
    assertNull(SelfInstruct.changedOption(saved.options(), o));
    assertEquals(
        "seed",
        SelfInstruct.changedOption(
            saved.options(), new SelfInstruct.Options(15, 300, 8, 3, 0.7, 0.5, 64, 64)));
    SelfInstruct again =
        new SelfInstruct(
            new ScriptedSampler(),
            seeds(),
            o,
            store,
            new AtomicBoolean(),
            new PrintWriter(new StringWriter()));
    again.restore(saved);
    var rest = again.run();
    assertEquals(whole.kept(), rest.kept());
    assertEquals(whole.tally().toJson().get("stages"), rest.tally().toJson().get("stages"));
    assertEquals(
        Files.readString(dir.resolve("whole/pool.jsonl")),
        Files.readString(out.resolve("pool.jsonl")));
  }
}
