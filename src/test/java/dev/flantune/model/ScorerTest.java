package dev.flantune.model;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Continuations that share a context are scored in one row (the context computed once); the scores
 * must equal scoring each request alone.
 */
class ScorerTest {
  @Test
  void sharedContextRowsEqualScoringEachRequestAlone() {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(97, 24, 16, 2, 2, 96);
    var w = dev.flantune.model.ModelInit.randomWeights(c, 3);
    w.values()
        .forEach(
            t -> {
              for (int i = 0; i < t.data().length; i++) t.data()[i] *= 10;
            }); // sharp distributions
    CausalLm lm = CausalLm.fromTensors(c, w, null);
    SplittableRandom r = new SplittableRandom(5);
    List<Scorer.Request> requests = new ArrayList<>();
    for (int prompt = 0; prompt < 5; prompt++) {
      int[] ctx = r.ints(1 + r.nextInt(9), 0, 97).toArray();
      for (int option = 0; option < 2 + prompt % 3; option++) {
        requests.add(new Scorer.Request(ctx, r.ints(1 + r.nextInt(4), 0, 97).toArray()));
      }
    }
    int[] longCtx = r.ints(18, 0, 97).toArray(); // 17 + three continuations of 3 > 24: two rows
    for (int option = 0; option < 3; option++)
      requests.add(new Scorer.Request(longCtx, r.ints(3, 0, 97).toArray()));
    requests.add(new Scorer.Request(longCtx, new int[0]));

    Scorer.Result[] shared = new Scorer(lm, 4).score(requests);
    for (int i = 0; i < requests.size(); i++) {
      Scorer.Result alone = new Scorer(lm, 1).score(List.of(requests.get(i)))[0];
      assertEquals(alone.logprob(), shared[i].logprob(), 1e-4, "request " + i);
      assertEquals(alone.tokens(), shared[i].tokens());
      assertEquals(alone.greedy(), shared[i].greedy());
    }
    // The continuation's first token is predicted from the context's last token: check one by hand.
    Scorer.Request q = requests.get(0);
    int[] all = new int[q.context().length + q.continuation().length];
    System.arraycopy(q.context(), 0, all, 0, q.context().length);
    System.arraycopy(q.continuation(), 0, all, q.context().length, q.continuation().length);
    float[] logits =
        lm.logits(
                new dev.flantune.data.Batch(
                    1,
                    all.length,
                    all,
                    range(all.length),
                    ones(all.length),
                    new int[all.length],
                    new float[all.length]))
            .data()
            .asFloat();
    double expect = 0;
    for (int j = 0; j < q.continuation().length; j++) {
      int at = q.context().length - 1 + j;
      double max = Double.NEGATIVE_INFINITY, sum = 0;
      for (int v = 0; v < 97; v++) max = Math.max(max, logits[at * 97 + v]);
      for (int v = 0; v < 97; v++) sum += Math.exp(logits[at * 97 + v] - max);
      expect += logits[at * 97 + q.continuation()[j]] - max - Math.log(sum);
    }
    assertEquals(expect, shared[0].logprob(), 1e-3);
    assertTrue(
        shared[requests.size() - 1].tokens() == 0 && shared[requests.size() - 1].logprob() == 0);
  }

  /** The scorer's shared-context rows give the same scores through either engine. */
  @Test
  void directAndGraphEnginesScoreAlike() {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(97, 32, 16, 2, 2, 96);
    CausalLm lm = CausalLm.fromTensors(c, dev.flantune.model.ModelInit.randomWeights(c, 4), null);
    SplittableRandom r = new SplittableRandom(6);
    List<Scorer.Request> requests = new ArrayList<>();
    for (int prompt = 0; prompt < 6; prompt++) {
      int[] ctx = r.ints(1 + r.nextInt(12), 0, 97).toArray();
      for (int option = 0; option < 3; option++)
        requests.add(new Scorer.Request(ctx, r.ints(1 + r.nextInt(5), 0, 97).toArray()));
    }
    Scorer.Result[] graph, direct;
    graph = new Scorer(lm.useEngine(Engine.GRAPH), 3).score(requests);
    assertEquals(0, lm.cpu().scoredBatches());
    direct = new Scorer(lm.useEngine(Engine.CPU), 3).score(requests);
    assertTrue(lm.cpu().scoredBatches() > 0, "the CPU engine scored the shared rows");
    for (int i = 0; i < requests.size(); i++) {
      assertEquals(graph[i].logprob(), direct[i].logprob(), 1e-4, "request " + i);
      assertEquals(graph[i].tokens(), direct[i].tokens());
      assertEquals(graph[i].greedy(), direct[i].greedy(), "request " + i);
    }
  }

  static int[] range(int n) {
    int[] a = new int[n];
    for (int i = 0; i < n; i++) a[i] = i;
    return a;
  }

  static int[] ones(int n) {
    int[] a = new int[n];
    java.util.Arrays.fill(a, 1);
    return a;
  }
}
