package dev.flantune.model;

import dev.flantune.data.Batch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Scores completions under a model: Σ ln P(completion tokens | prompt), the token count, and
 * whether every completion token is the model's argmax.
 *
 * <p>Requests with the same context (the options of one rank-classification prompt) share one row:
 * the context is computed once, and each continuation follows it as its own segment that attends to
 * the context and to itself, never to the other continuations, with positions continuing from the
 * context. Row layout for context c (length P) and continuations a, b: {@code c[0..P-2] | c[P-1]
 * a[0..] | c[P-1] b[0..]}: the context's last token is repeated at the head of each segment because
 * it predicts each continuation's first token. Rows are sorted by length and batched so that the
 * [M, V] logits of a batch stay within a budget.
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

  /** Requests sharing one context, laid out in one row of {@code length} positions. */
  private static final class Row {
    final int[] context;
    final List<Integer> requests = new ArrayList<>();
    int length;

    Row(int[] context) {
      this.context = context;
      this.length = context.length - 1;
    }
  }

  /** Scores every request; results are in request order. */
  public Result[] score(List<Request> requests) {
    int max = model.config().nPositions();
    Result[] results = new Result[requests.size()];
    List<Row> rows = new ArrayList<>();
    java.util.Map<java.util.List<Integer>, Row> open = new java.util.HashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      Request r = requests.get(i);
      if (r.context.length == 0) throw new IllegalArgumentException("empty context");
      if (r.context.length + r.continuation.length - 1 > max) {
        throw new IllegalArgumentException("sequence longer than n_positions " + max);
      }
      if (r.continuation.length == 0) {
        results[i] = new Result(0, 0, true);
        continue;
      }
      var key = Arrays.stream(r.context).boxed().toList();
      Row row = open.get(key);
      if (row == null || row.length + r.continuation.length > max) { // a full row starts another
        row = new Row(r.context);
        rows.add(row);
        open.put(key, row);
      }
      row.requests.add(i);
      row.length += r.continuation.length;
    }
    rows.sort(Comparator.comparingInt((Row r) -> -r.length));
    int start = 0;
    while (start < rows.size()) {
      int t = rows.get(start).length; // longest first: the batch's length
      long scored = 0;
      int n = 0;
      while (start + n < rows.size() && n < maxRows) {
        long more = scored + scoredTokens(rows.get(start + n), requests);
        if (n > 0 && more * model.config().vocabSize() > LOGIT_BUDGET) break;
        scored = more;
        n++;
      }
      scoreBatch(requests, rows.subList(start, start + n), t, results);
      start += n;
    }
    return results;
  }

  private static int scoredTokens(Row row, List<Request> requests) {
    int s = 0;
    for (int i : row.requests) s += requests.get(i).continuation.length;
    return s;
  }

  private void scoreBatch(List<Request> requests, List<Row> rows, int t, Result[] results) {
    int n = rows.size() * t;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    int[] owner = new int[n]; // the request a scored position belongs to
    float[] bias = new float[rows.size() * t * t];
    Arrays.fill(bias, ModelGraph.MASKED);
    for (int r = 0; r < rows.size(); r++) {
      Row row = rows.get(r);
      int base = r * t;
      int prefix = row.context.length - 1;
      for (int i = 0; i < prefix; i++) {
        ids[base + i] = row.context[i];
        pos[base + i] = i;
        seg[base + i] = 1;
        for (int k = 0; k <= i; k++) bias[(base + i) * t + k] = 0f;
      }
      int at = prefix;
      int segment = 2;
      for (int q : row.requests) {
        int[] cont = requests.get(q).continuation;
        int segStart = at;
        for (int j = 0; j < cont.length; j++, at++) {
          ids[base + at] = j == 0 ? row.context[prefix] : cont[j - 1];
          labels[base + at] = cont[j];
          pos[base + at] = prefix + j;
          seg[base + at] = segment;
          mask[base + at] = 1f;
          owner[base + at] = q;
          int biasRow = (base + at) * t;
          for (int k = 0; k < prefix; k++) bias[biasRow + k] = 0f; // the shared context
          for (int k = segStart; k <= at; k++) bias[biasRow + k] = 0f; // its own segment, causally
        }
        segment++;
      }
    }
    Batch batch = new Batch(rows.size(), t, ids, pos, seg, labels, mask);
    CausalLm.TokenScores s = model.tokenScores(batch, bias);
    double[] lp = new double[results.length];
    int[] count = new int[results.length];
    boolean[] notGreedy = new boolean[results.length];
    for (int k = 0; k < n; k++) {
      if (mask[k] == 0f) continue;
      int q = owner[k];
      lp[q] -= s.nll()[k];
      count[q]++;
      notGreedy[q] |= s.argmax()[k] != labels[k];
    }
    for (Row row : rows) {
      for (int q : row.requests) results[q] = new Result(lp[q], count[q], !notGreedy[q]);
    }
  }
}
