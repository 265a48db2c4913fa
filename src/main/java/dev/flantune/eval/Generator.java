package dev.flantune.eval;

import dev.flantune.model.CausalLm;
import dev.flantune.model.Decoder;
import java.util.Arrays;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Continues a prompt token by token with a key/value-cache {@link Decoder}: greedy (temperature 0,
 * the evaluation protocol's decoding) or sampled with temperature and nucleus (top-p) filtering
 * from a seeded {@link SplittableRandom}, so a seed reproduces a sample exactly.
 *
 * <p>Generation stops at the first of: an EOS token (any of the model's, e.g. Llama 3's {@code
 * <|end_of_text|>} and {@code <|eot_id|>}; not included in the output, so a model that learned to
 * emit EOS ends cleanly, the trap of trainers without it), {@code maxNewTokens}, or a full context
 * (n_positions). One prompt at a time.
 */
public final class Generator {
  private final Decoder decoder;

  public Generator(CausalLm model) {
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
    CONTEXT_FULL
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
    int max = decoder.config().nPositions();
    if (prompt.length == 0) throw new IllegalArgumentException("empty prompt");
    if (prompt.length >= max) {
      throw new IllegalArgumentException(
          "prompt has " + prompt.length + " tokens; n_positions is " + max);
    }
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
