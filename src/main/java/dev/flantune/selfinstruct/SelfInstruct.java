package dev.flantune.selfinstruct;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.tasks.Seeds;
import dev.flantune.util.Jsonl;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The Self-Instruct loop, one round at a time until {@code instructions} are kept, {@code
 * maxCandidates} candidates were generated, or a stop is requested:
 *
 * <ol>
 *   <li>{@code batchSize} prompts of 8 in-context instructions (6 seeds and 2 kept ones once there
 *       are kept ones, shuffled), sampled with temperature and top-p;
 *   <li>each continuation parsed into candidates, each candidate filtered (cheap checks, then
 *       ROUGE-L &lt; 0.7 against every seed and kept instruction and the candidates already passed
 *       this round);
 *   <li>"is it classification?" for the survivors, greedy;
 *   <li>instances for them, sampled like the instructions: input-first, or output-first for
 *       classification. The paper decoded instances greedily with a presence penalty against
 *       repetition; the decoder here has no such penalty, and greedy decoding of a small model
 *       loops on one phrase;
 *   <li>instances filtered; an instruction with at least one instance left is kept and appended to
 *       the pool.
 * </ol>
 *
 * Every choice is seeded from (seed, round, prompt), so a seed reproduces the pool, and a run
 * resumed at a round boundary continues as the uninterrupted run would have.
 */
public final class SelfInstruct {
  /** Generated instructions per prompt (the paper's 8 = 6 seeds + 2 generated). */
  public static final int IN_CONTEXT = 8, GENERATED_IN_CONTEXT = 2;

  /** Candidates at or above this ROUGE-L against the pool are dropped. */
  public static final double ROUGE_L_THRESHOLD = 0.7;

  /**
   * The options of one run. {@code temperature}/{@code topP} sample instructions and instances;
   * classification is greedy (as in the paper).
   */
  public record Options(
      int instructions,
      int maxCandidates,
      long seed,
      int batchSize,
      double temperature,
      double topP,
      int instructionTokens,
      int instanceTokens) {
    /** Options that must stay the same for {@code --resume} to continue the same run. */
    public ObjectNode fingerprint() {
      ObjectNode o = Jsonl.JSON.createObjectNode();
      o.put("seed", seed);
      o.put("batch_size", batchSize);
      o.put("temperature", temperature);
      o.put("top_p", topP);
      o.put("instruction_tokens", instructionTokens);
      o.put("instance_tokens", instanceTokens);
      return o;
    }
  }

  /** How the run ended. */
  public enum End {
    REACHED,
    MAX_CANDIDATES,
    INTERRUPTED
  }

  public record Outcome(End end, List<SeedTask> kept, Tally tally, int rounds) {}

  private final TextSampler sampler;
  private final List<SeedTask> seeds;
  private final Options options;
  private final PoolStore store;
  private final AtomicBoolean stop;
  private final PrintWriter log;

  private final List<SeedTask> kept = new ArrayList<>();
  private final InstructionFilter cheapFilter = new InstructionFilter();
  private final RougePool rougePool = new RougePool();
  private Tally tally = new Tally();
  private int roundsDone;

  public SelfInstruct(
      TextSampler sampler,
      List<SeedTask> seeds,
      Options options,
      PoolStore store,
      AtomicBoolean stop,
      PrintWriter log) {
    if (seeds.isEmpty()) throw new IllegalArgumentException("no seed tasks");
    this.sampler = sampler;
    this.seeds = List.copyOf(seeds);
    this.options = options;
    this.store = store;
    this.stop = stop;
    this.log = log;
    for (SeedTask s : seeds) remember(s.instruction());
  }

  /** Continues from a saved run: its kept pool, rounds and counts. */
  public void restore(PoolStore.Saved saved) {
    for (PoolStore.Kept k : saved.kept()) {
      kept.add(k.task());
      remember(k.task().instruction());
    }
    tally = saved.tally();
    roundsDone = saved.roundsDone();
  }

  public static ObjectNode fingerprintOf(Options options) {
    return options.fingerprint();
  }

  /**
   * The first option whose value differs between a saved run's fingerprint and {@code now}'s, or
   * null. Values compare as text: JSON read back may give an int where a long was written.
   */
  public static String changedOption(ObjectNode saved, Options now) {
    ObjectNode want = now.fingerprint();
    for (var it = want.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!saved.has(k) || !want.get(k).asText().equals(saved.get(k).asText())) return k;
    }
    return null;
  }

  private void remember(String instruction) {
    cheapFilter.add(instruction);
    rougePool.add(instruction);
  }

  public Outcome run() {
    long runStart = System.nanoTime();
    End end = null;
    try {
      while (end == null) {
        if (kept.size() >= options.instructions()) end = End.REACHED;
        else if (tally.get(Tally.Stage.CANDIDATE_INSTRUCTIONS) >= options.maxCandidates()
            || roundsDone >= maxRounds()) end = End.MAX_CANDIDATES;
        else if (stop.get()) end = End.INTERRUPTED;
        else {
          round(roundsDone);
          roundsDone++;
          tally.count(Tally.Stage.ROUNDS);
          tally.elapsed((System.nanoTime() - runStart) / 1e9);
          runStart = System.nanoTime();
          store.saveState(roundsDone, options.fingerprint(), tally);
          log.printf(
              "round %d: %d kept of %d wanted, %d candidates (max %d), %d tokens generated%n",
              roundsDone,
              kept.size(),
              options.instructions(),
              tally.get(Tally.Stage.CANDIDATE_INSTRUCTIONS),
              options.maxCandidates(),
              tally.tokensGenerated());
          log.flush();
        }
      }
    } finally {
      tally.elapsed((System.nanoTime() - runStart) / 1e9);
    }
    return new Outcome(end, List.copyOf(kept), tally, roundsDone);
  }

  /**
   * A model whose continuations parse into nothing would never reach {@code maxCandidates}: rounds
   * are bounded as if each prompt gave at least one candidate.
   */
  int maxRounds() {
    return (options.maxCandidates() + options.batchSize() - 1) / options.batchSize();
  }

  private void round(int round) {
    // 1. instruction generation
    List<TextSampler.Request> requests = new ArrayList<>();
    List<Integer> nextNumber = new ArrayList<>();
    SplittableRandom rng = new SplittableRandom(Seeds.mix(options.seed(), round, 0x51));
    for (int p = 0; p < options.batchSize(); p++) {
      List<String> inContext = inContext(rng);
      nextNumber.add(inContext.size() + 1);
      requests.add(
          new TextSampler.Request(
              Prompts.instructionGeneration(inContext),
              options.instructionTokens(),
              options.temperature(),
              options.topP(),
              Seeds.mix(options.seed(), round, p, 0x1a),
              Prompts.INSTRUCTION_STOPS));
    }
    List<TextSampler.Completion> continuations = sample(requests);

    // 2. parse and filter instructions
    List<String> passed = new ArrayList<>();
    RougePool roundPool = new RougePool(); // this round's survivors, not yet kept
    for (int p = 0; p < continuations.size(); p++) {
      TextSampler.Completion c = continuations.get(p);
      for (String candidate : Parsers.instructions(c.text(), nextNumber.get(p), c.finish())) {
        if (tally.get(Tally.Stage.CANDIDATE_INSTRUCTIONS) >= options.maxCandidates()) break;
        tally.count(Tally.Stage.CANDIDATE_INSTRUCTIONS);
        Rejection r = cheapFilter.check(candidate);
        if (r == null && passed.stream().anyMatch(s -> sameText(s, candidate)))
          r = Rejection.DUPLICATE_INSTRUCTION;
        if (r == null) {
          long t0 = System.nanoTime();
          double rouge = Math.max(rougePool.maxRougeL(candidate), roundPool.maxRougeL(candidate));
          tally.rougeTime((System.nanoTime() - t0) / 1e9);
          tally.rouge(rouge);
          if (rouge >= ROUGE_L_THRESHOLD) r = Rejection.ROUGE_L_TOO_SIMILAR;
        }
        if (r != null) {
          tally.reject(r);
          continue;
        }
        tally.count(Tally.Stage.PASSED_INSTRUCTION_FILTERS);
        passed.add(candidate);
        roundPool.add(candidate);
      }
    }
    if (passed.isEmpty()) return;

    // 3. classification or not
    List<TextSampler.Request> clf = new ArrayList<>();
    for (String instruction : passed)
      clf.add(greedy(Prompts.classification(instruction), 3, Prompts.CLASSIFICATION_STOPS));
    List<Boolean> isClassification = new ArrayList<>();
    for (TextSampler.Completion c : sample(clf)) {
      Boolean yes = Parsers.classification(c.text());
      if (yes == null) tally.count(Tally.Stage.CLASSIFICATION_ANSWER_UNCLEAR);
      boolean classification = Boolean.TRUE.equals(yes); // unclear: treated as generation
      tally.count(
          classification
              ? Tally.Stage.CLASSIFIED_CLASSIFICATION
              : Tally.Stage.CLASSIFIED_GENERATION);
      isClassification.add(classification);
    }

    // 4. instances: output-first for classification, input-first otherwise
    List<TextSampler.Request> inst = new ArrayList<>();
    for (int i = 0; i < passed.size(); i++) {
      String prompt =
          isClassification.get(i)
              ? Prompts.outputFirst(passed.get(i))
              : Prompts.inputFirst(passed.get(i));
      inst.add(
          new TextSampler.Request(
              prompt,
              options.instanceTokens(),
              options.temperature(),
              options.topP(),
              Seeds.mix(options.seed(), round, i, 0x2b),
              Prompts.INSTANCE_STOPS));
    }
    List<TextSampler.Completion> instances = sample(inst);

    // 5. filter instances, keep
    for (int i = 0; i < passed.size() && kept.size() < options.instructions(); i++) {
      TextSampler.Completion c = instances.get(i);
      List<Parsers.Parsed> parsed =
          isClassification.get(i)
              ? Parsers.outputFirst(c.text(), c.finish())
              : Parsers.inputFirst(c.text(), c.finish());
      tally.add(Tally.Stage.INSTANCES_PARSED, parsed.size());
      List<SeedTask.Instance> good = InstanceFilter.filter(parsed, tally::reject);
      if (good.isEmpty()) {
        tally.reject(Rejection.NO_VALID_INSTANCES);
        continue;
      }
      SeedTask task = new SeedTask(passed.get(i), isClassification.get(i), good);
      store.append(new PoolStore.Kept(round, task));
      kept.add(task);
      remember(task.instruction());
      tally.add(Tally.Stage.INSTANCES_KEPT, good.size());
      tally.count(Tally.Stage.INSTRUCTIONS_KEPT);
    }
  }

  private static boolean sameText(String a, String b) {
    return InstructionFilter.normalized(a).equals(InstructionFilter.normalized(b));
  }

  /** 6 seeds and up to 2 kept instructions (fewer kept: more seeds), in a seeded shuffle. */
  private List<String> inContext(SplittableRandom rng) {
    List<String> out = new ArrayList<>();
    int generated = Math.min(GENERATED_IN_CONTEXT, kept.size());
    for (int i : sampleIndices(kept.size(), generated, rng)) out.add(kept.get(i).instruction());
    int fromSeeds = Math.min(IN_CONTEXT - generated, seeds.size());
    for (int i : sampleIndices(seeds.size(), fromSeeds, rng)) out.add(seeds.get(i).instruction());
    Collections.shuffle(out, new java.util.Random(rng.nextLong()));
    return out;
  }

  /** {@code k} distinct indices of [0, n), by a partial Fisher–Yates shuffle. */
  static int[] sampleIndices(int n, int k, SplittableRandom rng) {
    int[] all = new int[n];
    for (int i = 0; i < n; i++) all[i] = i;
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(n - i);
      int t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return java.util.Arrays.copyOf(all, k);
  }

  private static TextSampler.Request greedy(String prompt, int maxNewTokens, List<String> stops) {
    return new TextSampler.Request(prompt, maxNewTokens, 0.0, 1.0, 0L, stops);
  }

  private List<TextSampler.Completion> sample(List<TextSampler.Request> requests) {
    long t0 = System.nanoTime();
    List<TextSampler.Completion> out = sampler.complete(requests);
    long tokens = 0;
    for (TextSampler.Completion c : out) {
      tokens += c.tokens();
      if (c.promptTruncated()) tally.count(Tally.Stage.PROMPTS_TRUNCATED);
    }
    tally.add(Tally.Stage.PROMPTS, requests.size());
    tally.generated(tokens, (System.nanoTime() - t0) / 1e9);
    return out;
  }
}
