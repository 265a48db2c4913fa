package dev.flantune.eval;

import dev.flantune.model.BatchDecoder;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Decoder;
import dev.flantune.util.Parallel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;

/**
 * Continues a prompt token by token with a key/value-cache {@link Decoder}: greedy (temperature 0,
 * the evaluation protocol's decoding) or sampled with temperature and nucleus (top-p) filtering
 * from a seeded {@link SplittableRandom}, so a seed reproduces a sample exactly.
 *
 * <p>Generation stops at the first of: an EOS token (any of the model's, e.g. Llama 3's {@code
 * <|end_of_text|>} and {@code <|eot_id|>}; not included in the output, so a model that learned to
 * emit EOS ends cleanly, the trap of trainers without it), {@code maxNewTokens}, or a full context
 * (n_positions), or when the caller's token hook says so.
 *
 * <p>{@link #generate(List, int)} decodes many prompts together (a {@link BatchDecoder} step over
 * all unfinished rows), each row with its own settings and its own random stream seeded by its
 * settings' seed: a row's tokens do not depend on which other prompts share the batch, and equal
 * the tokens of {@link #generate(int[], Settings)} on that prompt alone, as far as the two paths'
 * logits agree (they differ by float rounding, ~1e-6; a greedy choice between two logits that
 * close, or a sampled draw that lands that close to a boundary, can differ).
 */
public final class Generator {
  private final CausalLm model;
  private final Decoder decoder;
  // Made on the first batched call. On the CPU engine it holds transposed copies of [out, in]
  // weights: a Generator reads the weights as they are at its first batched call (make a new one
  // after changing them; evaluation and self-instruct make one per run).
  private BatchDecoder batch;
  private final ArrayDeque<Decoder> idleRows = new ArrayDeque<>(); // finished rows' caches, reused

  public Generator(CausalLm model) {
    this.model = model;
    this.decoder = Decoder.forModel(model);
  }

  /** The longest sequence (prompt + continuation) the model takes: n_positions. */
  public int contextLength() {
    return decoder.config().nPositions();
  }

  /**
   * How to decode. {@code temperature} 0 means greedy; {@code topP} in (0, 1] keeps the smallest
   * set of most likely tokens whose probability reaches it; generation stops at any of {@code
   * eosIds} (empty: never stop on a token).
   */
  public record Settings(
      int maxNewTokens, double temperature, double topP, long seed, Set<Integer> eosIds) {
    public Settings {
      eosIds = Set.copyOf(eosIds);
      if (maxNewTokens < 0)
        throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
      if (!(temperature >= 0) || Double.isInfinite(temperature)) {
        throw new IllegalArgumentException(
            "temperature must be finite and >= 0, got " + temperature);
      }
      if (!(topP > 0 && topP <= 1))
        throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
    }

    /** One stop token, {@code eosId} (< 0: none). */
    public Settings(int maxNewTokens, double temperature, double topP, long seed, int eosId) {
      this(maxNewTokens, temperature, topP, seed, eosId < 0 ? Set.of() : Set.of(eosId));
    }

    public static Settings greedy(int maxNewTokens, int eosId) {
      return new Settings(maxNewTokens, 0.0, 1.0, 0L, eosId);
    }

    public static Settings greedy(int maxNewTokens, Set<Integer> eosIds) {
      return new Settings(maxNewTokens, 0.0, 1.0, 0L, eosIds);
    }
  }

  public enum Stop {
    /** The model produced an EOS token. */
    EOS,
    /** {@code maxNewTokens} were produced. */
    MAX_TOKENS,
    /** The sequence reached n_positions. */
    CONTEXT_FULL,
    /** The caller's token hook asked to stop (after that token). */
    STOPPED
  }

  /** The new tokens (EOS excluded) and why generation stopped. */
  public record Result(int[] tokens, Stop stop) {}

  public Result generate(int[] prompt, Settings s) {
    return generate(prompt, s, id -> {});
  }

  /**
   * Generates a continuation of {@code prompt}, which must be non-empty and shorter than
   * n_positions; {@code onToken} sees each new token as it is chosen (for streaming output).
   */
  public Result generate(int[] prompt, Settings s, IntConsumer onToken) {
    checkPrompt(prompt);
    SplittableRandom rng = new SplittableRandom(s.seed());
    decoder.reset();
    int[] out = new int[s.maxNewTokens()];
    int n = 0;
    if (s.maxNewTokens() == 0) return new Result(out, Stop.MAX_TOKENS);
    float[] logits = decoder.append(prompt);
    while (true) {
      int next = pick(logits, s.temperature(), s.topP(), rng);
      if (s.eosIds().contains(next)) return new Result(Arrays.copyOf(out, n), Stop.EOS);
      out[n++] = next;
      onToken.accept(next);
      if (n == s.maxNewTokens()) return new Result(out, Stop.MAX_TOKENS);
      if (decoder.remaining() == 0) return new Result(Arrays.copyOf(out, n), Stop.CONTEXT_FULL);
      logits = decoder.append(next);
    }
  }

  /**
   * One prompt of a batch with its settings (its seed included) and a hook that sees each new token
   * as it is chosen and returns false to end the row there (the token kept, {@link Stop#STOPPED}).
   */
  public record Request(int[] prompt, Settings settings, IntPredicate onToken) {
    public Request(int[] prompt, Settings settings) {
      this(prompt, settings, id -> true);
    }
  }

  /**
   * Generates a continuation for every request, decoding up to {@code batchSize} rows together;
   * when a row finishes, the next waiting request takes its place. Results are in request order.
   * Hooks are called on this thread, in step order and row order within a step.
   */
  public List<Result> generate(List<Request> requests, int batchSize) {
    if (batchSize < 1) throw new IllegalArgumentException("batch size must be >= 1");
    for (Request r : requests) checkPrompt(r.prompt());
    if (batch == null) batch = BatchDecoder.forModel(model);
    Result[] results = new Result[requests.size()];
    List<Row> active = new ArrayList<>();
    int waiting = 0;
    while (true) {
      // Waiting requests take the free places, their prompts prefilled together (again while
      // some end at their first token).
      while (active.size() < batchSize && waiting < requests.size()) {
        List<Row> joining = new ArrayList<>();
        while (active.size() + joining.size() < batchSize && waiting < requests.size()) {
          int i = waiting++;
          Request r = requests.get(i);
          if (r.settings().maxNewTokens() == 0) {
            results[i] = new Result(new int[0], Stop.MAX_TOKENS);
            continue;
          }
          Row row = new Row(i, r, idleRows.isEmpty() ? batch.open() : idleRows.pop());
          row.decoder.reset();
          joining.add(row);
        }
        prefill(joining);
        for (Row row : joining) {
          if (row.accept()) active.add(row);
          else finish(row, results);
        }
      }
      if (active.isEmpty()) return Arrays.asList(results);
      int m = active.size();
      Decoder[] rows = new Decoder[m];
      int[] tokens = new int[m];
      for (int j = 0; j < m; j++) {
        rows[j] = active.get(j).decoder;
        tokens[j] = active.get(j).next;
      }
      long t0 = System.nanoTime();
      float[][] logits = batch.step(rows, tokens);
      long t1 = System.nanoTime();
      chooseAll(active, logits);
      if (dev.flantune.model.StepProfile.enabled()) {
        dev.flantune.model.StepProfile.add("step (whole)", t1 - t0);
        dev.flantune.model.StepProfile.add("pick (argmax/sample)", System.nanoTime() - t1);
      }
      List<Row> still = new ArrayList<>(m);
      for (Row row : active) {
        if (row.accept()) still.add(row);
        else finish(row, results);
      }
      active = still;
    }
  }

  /** The rows' prompts in one batched pass, each row's first token chosen. */
  private void prefill(List<Row> rows) {
    if (rows.isEmpty()) return;
    long t0 = System.nanoTime();
    Decoder[] decoders = new Decoder[rows.size()];
    int[][] prompts = new int[decoders.length][];
    for (int j = 0; j < decoders.length; j++) {
      decoders[j] = rows.get(j).decoder;
      prompts[j] = rows.get(j).request.prompt();
    }
    chooseAll(rows, batch.append(decoders, prompts));
    if (dev.flantune.model.StepProfile.enabled())
      dev.flantune.model.StepProfile.add("prefill (whole)", System.nanoTime() - t0);
  }

  /** Each row picks its next token from its logits, rows split between threads. */
  private static void chooseAll(List<Row> rows, float[][] logits) {
    Parallel.range(
        rows.size(),
        logits[0].length,
        (from, to) -> {
          for (int j = from; j < to; j++) rows.get(j).choose(logits[j]);
        });
  }

  private void finish(Row row, Result[] results) {
    results[row.index] = row.result;
    idleRows.push(row.decoder);
  }

  /** One request being decoded: its cache, random stream and tokens so far. */
  private static final class Row {
    final int index;
    final Request request;
    final Decoder decoder;
    final SplittableRandom rng;
    final int[] out;
    int n, next;
    Result result; // set when the row ends

    Row(int index, Request request, Decoder decoder) {
      this.index = index;
      this.request = request;
      this.decoder = decoder;
      this.rng = new SplittableRandom(request.settings().seed());
      this.out = new int[request.settings().maxNewTokens()];
    }

    /** Picks the next token from the logits (thread-safe across rows: each row has its rng). */
    void choose(float[] logits) {
      Settings s = request.settings();
      next = pick(logits, s.temperature(), s.topP(), rng);
    }

    /** Takes the chosen token, exactly as {@link #generate(int[], Settings)}; false once done. */
    boolean accept() {
      Settings s = request.settings();
      if (s.eosIds().contains(next)) return end(Stop.EOS);
      out[n++] = next;
      if (!request.onToken().test(next)) return end(Stop.STOPPED);
      if (n == s.maxNewTokens()) return end(Stop.MAX_TOKENS);
      if (decoder.remaining() == 0) return end(Stop.CONTEXT_FULL);
      return true;
    }

    private boolean end(Stop stop) {
      result = new Result(Arrays.copyOf(out, n), stop);
      return false;
    }
  }

  private void checkPrompt(int[] prompt) {
    int max = decoder.config().nPositions();
    if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
    if (prompt.length >= max) {
      throw new IllegalArgumentException(
          "prompt has " + prompt.length + " tokens; n_positions is " + max);
    }
  }

  /**
   * The next token: the argmax (the lowest id on ties) when {@code temperature} is 0, else a sample
   * from softmax(logits / temperature) restricted to the top-p nucleus: the most likely tokens
   * (ties by id) whose mass first reaches p.
   *
   * <p>Only the candidates that can be in the nucleus are sorted: every token with probability at
   * least a threshold t, t halved until those tokens hold the nucleus's mass. All of them rank
   * before every other token, so the nucleus is a prefix of their order, and the draw is the one a
   * sort of the whole vocabulary gives ({@link #pickBySortingAll}, the control a test compares
   * against); sorting 50,257 boxed ids per token cost most of a sampled step.
   */
  static int pick(float[] logits, double temperature, double topP, SplittableRandom rng) {
    if (temperature == 0) return argmax(logits);
    int v = logits.length;
    double maxLogit = logits[argmax(logits)];
    double[] prob = new double[v];
    double sum = 0;
    for (int i = 0; i < v; i++) {
      prob[i] = Math.exp((logits[i] - maxLogit) / temperature); // shifted: never overflows
      sum += prob[i];
    }
    double target = topP * sum;
    double t = 1; // the largest probability is exactly 1 (shifted by the max)
    int[] candidates;
    while (true) {
      int n = 0;
      double mass = 0;
      for (int i = 0; i < v; i++) {
        if (prob[i] >= t) {
          n++;
          mass += prob[i];
        }
      }
      if (mass >= target || t == 0 || n == v) {
        candidates = new int[n];
        n = 0;
        for (int i = 0; i < v; i++) if (prob[i] >= t) candidates[n++] = i;
        break;
      }
      t = t < Double.MIN_NORMAL ? 0 : t / 2;
    }
    Integer[] order = sortedByProbability(candidates, prob);
    int keep = 0;
    double mass = 0;
    while (keep < order.length && (keep == 0 || mass < target)) mass += prob[order[keep++]];
    if (mass < target && order.length < v) {
      return pickBySortingAll(prob, sum, topP, rng); // summation order fell short: the full sort
    }
    return draw(order, keep, mass, prob, rng);
  }

  /** {@link #pick} by sorting the whole vocabulary: the reference for its test. */
  static int pickBySortingAll(
      float[] logits, double temperature, double topP, SplittableRandom rng) {
    if (temperature == 0) return argmax(logits);
    int v = logits.length;
    double maxLogit = logits[argmax(logits)];
    double[] prob = new double[v];
    double sum = 0;
    for (int i = 0; i < v; i++) {
      prob[i] = Math.exp((logits[i] - maxLogit) / temperature);
      sum += prob[i];
    }
    return pickBySortingAll(prob, sum, topP, rng);
  }

  private static int pickBySortingAll(
      double[] prob, double sum, double topP, SplittableRandom rng) {
    int[] all = new int[prob.length];
    for (int i = 0; i < all.length; i++) all[i] = i;
    Integer[] order = sortedByProbability(all, prob);
    int keep = 0;
    double mass = 0;
    while (keep < order.length && (keep == 0 || mass < topP * sum)) mass += prob[order[keep++]];
    return draw(order, keep, mass, prob, rng);
  }

  /** Most likely first; ties by id so the nucleus does not depend on the sort's stability. */
  private static Integer[] sortedByProbability(int[] ids, double[] prob) {
    Integer[] order = new Integer[ids.length];
    for (int i = 0; i < ids.length; i++) order[i] = ids[i];
    Arrays.sort(
        order,
        (a, b) -> prob[a] != prob[b] ? Double.compare(prob[b], prob[a]) : Integer.compare(a, b));
    return order;
  }

  private static int draw(
      Integer[] order, int keep, double mass, double[] prob, SplittableRandom rng) {
    double r = rng.nextDouble() * mass;
    for (int i = 0; i < keep; i++) {
      r -= prob[order[i]];
      if (r < 0) return order[i];
    }
    return order[keep - 1]; // r landed on the rounding remainder
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
    return best;
  }
}
