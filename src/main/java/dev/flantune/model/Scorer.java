package dev.flantune.model;

import dev.flantune.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Scores completions under a model: Σ ln P(completion tokens | prompt), the token count, and
 * whether every completion token is the model's argmax. Requests are sorted by length and batched
 * so that similar lengths share a batch and the [N, V] logits of one batch stay within a budget.
 */
public final class Scorer {
  /** Upper bound on N·V floats of logits alive at once (about 256 MB). */
  static final long LOGIT_BUDGET = 64L << 20;

  private final CausalLm model;
  private final int maxRows;

  public Scorer(CausalLm model, int maxRows) {
    this.model = model;
    this.maxRows = maxRows;
  }

  /** Context and continuation ids; the context must not be empty. */
  public record Request(int[] context, int[] continuation) {}

  public record Result(double logprob, int tokens, boolean greedy) {}

  /** Scores every request; results are in request order. */
  public Result[] score(List<Request> requests) {
    int max = model.config().nPositions();
    for (Request r : requests) {
      if (r.context.length == 0) throw new IllegalArgumentException("empty context");
      if (r.context.length + r.continuation.length - 1 > max) {
        throw new IllegalArgumentException("sequence longer than n_positions " + max);
      }
    }
    Result[] results = new Result[requests.size()];
    List<Integer> toRun = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      if (requests.get(i).continuation.length == 0) results[i] = new Result(0, 0, true);
      else toRun.add(i);
    }
    Integer[] order = toRun.toArray(new Integer[0]);
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> -length(requests.get(i))));
    int start = 0;
    while (start < order.length) {
      int t = length(requests.get(order[start])); // longest first: the batch's length
      long rowsByBudget = Math.max(1, LOGIT_BUDGET / ((long) t * model.config().vocabSize()));
      int rows = (int) Math.min(Math.min(maxRows, rowsByBudget), order.length - start);
      List<Integer> idx = new ArrayList<>(Arrays.asList(order).subList(start, start + rows));
      scoreBatch(requests, idx, t, results);
      start += rows;
    }
    return results;
  }

  /** Input length: the last continuation token is only predicted, never fed. */
  private static int length(Request r) {
    return r.context.length + r.continuation.length - 1;
  }

  private void scoreBatch(List<Request> requests, List<Integer> idx, int t, Result[] results) {
    int rows = idx.size();
    int n = rows * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int r = 0; r < rows; r++) {
      Request q = requests.get(idx.get(r));
      int[] all = concat(q.context, q.continuation);
      int len = all.length - 1;
      for (int i = 0; i < len; i++) {
        ids[r * t + i] = all[i];
        pos[r * t + i] = i;
        seg[r * t + i] = 1;
        labels[r * t + i] = all[i + 1];
        if (i + 1 >= q.context.length) mask[r * t + i] = 1f;
      }
    }
    CausalLm.TokenScores s = model.tokenScores(new Batch(rows, t, ids, pos, seg, labels, mask));
    for (int r = 0; r < rows; r++) {
      double lp = 0;
      boolean greedy = true;
      int count = 0;
      for (int i = 0; i < t; i++) {
        int k = r * t + i;
        if (mask[k] == 0f) continue;
        lp -= s.nll()[k];
        greedy &= s.argmax()[k] == labels[k];
        count++;
      }
      results[idx.get(r)] = new Result(lp, count, greedy);
    }
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
