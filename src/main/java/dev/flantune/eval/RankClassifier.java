package dev.flantune.eval;

import dev.flantune.chat.ChatTurn;
import dev.flantune.data.ChatFormat;
import dev.flantune.data.ExampleTokenizer;
import dev.flantune.data.TokenizedExample;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Scorer;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rank classification (FLAN): each option is scored as Σ ln P(option target tokens + EOS | prompt)
 * and the best-scoring option is the prediction. Each option's sequence is built exactly as a
 * training example ({@link ExampleTokenizer#assemble}: {@code [bos]? ++ ids(prompt) ++ ids(target)
 * ++ [eos]}, the prompt's start dropped to fit), so the model is asked about the very tokens it
 * trained on.
 *
 * <p>Batching: all options of a chunk of queries go to one {@link Scorer} call, which sorts the
 * sequences by length and fills batches under its logit budget, so options of similar length share
 * a batch and padding stays small. The prompt is recomputed for each option: attention has to see
 * it, and a shared-prefix cache would not pay for itself at 2–4 options.
 *
 * <p>With a {@link ChatFormat}, each option is the assistant's reply after the generation prompt:
 * its content and end-of-turn token are scored, tokenized as in chat-template training.
 */
final class RankClassifier {
  private final Tokenizer tokenizer;
  private final Scorer scorer;
  private final int maxLength;
  private final int eos;
  private final int bos;
  private final ChatFormat chat;

  RankClassifier(CausalLm model, Tokenizer tokenizer, int maxLength, int batchSize) {
    this(model, tokenizer, maxLength, batchSize, null);
  }

  /** {@code chat} null: plain prompts; else options scored as the assistant's reply. */
  RankClassifier(
      CausalLm model, Tokenizer tokenizer, int maxLength, int batchSize, ChatFormat chat) {
    this.tokenizer = tokenizer;
    this.scorer = new Scorer(model, batchSize);
    this.maxLength = maxLength;
    this.eos = tokenizer.eosId();
    this.bos = tokenizer.specialTokens().prependedBos();
    this.chat = chat;
  }

  /**
   * A prompt and the target text of each option, in the options' order. With a chat format, {@code
   * context} holds the turns the options reply to ({@code prompt} is then their rendered text) and
   * {@code where} names the example in errors.
   */
  record Query(String prompt, List<String> targets, List<ChatTurn> context, String where) {
    Query(String prompt, List<String> targets) {
      this(prompt, targets, null, "");
    }
  }

  /**
   * The options' scores. {@code tokens} counts the scored tokens (target + EOS), {@code chars} the
   * target's characters (Unicode code points, as Python's {@code len}).
   */
  record Ranking(double[] logprob, int[] tokens, int[] chars) {
    int best() {
      return argmax(logprob);
    }

    int bestPerToken() {
      double[] v = new double[logprob.length];
      for (int i = 0; i < v.length; i++) v[i] = logprob[i] / tokens[i];
      return argmax(v);
    }

    int bestPerChar() {
      double[] v = new double[logprob.length];
      for (int i = 0; i < v.length; i++) v[i] = logprob[i] / Math.max(1, chars[i]);
      return argmax(v);
    }

    /** The first maximum, so ties go to the earlier option (numpy's argmax). */
    static int argmax(double[] v) {
      int best = 0;
      for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
      return best;
    }
  }

  /**
   * Ranks the options of every query; an empty result means an option's target and EOS alone do not
   * fit the context, so the query cannot be scored fairly and is skipped.
   */
  List<Optional<Ranking>> rank(List<Query> queries) {
    // One batched tokenizer call for all prompts and the distinct targets.
    List<String> texts = new ArrayList<>();
    Map<String, Integer> targetSlot = new HashMap<>();
    for (Query q : queries) texts.add(q.prompt());
    for (Query q : queries) {
      for (String t : q.targets()) {
        if (!targetSlot.containsKey(t)) {
          targetSlot.put(t, texts.size());
          texts.add(t);
        }
      }
    }
    int[][] ids = chat != null ? null : tokenizer.encodeBatch(texts);

    List<Scorer.Request> requests = new ArrayList<>();
    int[] first = new int[queries.size()];
    boolean[] fits = new boolean[queries.size()];
    for (int qi = 0; qi < queries.size(); qi++) {
      Query q = queries.get(qi);
      first[qi] = requests.size();
      List<Scorer.Request> mine = new ArrayList<>();
      if (chat != null) {
        for (String t : q.targets()) {
          List<ChatTurn> turns = new ArrayList<>(q.context());
          turns.add(ChatTurn.of("assistant", t));
          Optional<int[][]> x = chat.lastReply(turns, maxLength, q.where());
          if (x.isEmpty()) break;
          mine.add(new Scorer.Request(x.get()[0], x.get()[1]));
        }
        fits[qi] = mine.size() == q.targets().size();
        if (fits[qi]) requests.addAll(mine);
        continue;
      }
      for (String t : q.targets()) {
        Optional<TokenizedExample> x =
            ExampleTokenizer.assemble(ids[qi], ids[targetSlot.get(t)], bos, eos, maxLength);
        if (x.isEmpty()) break;
        int[] all = x.get().ids();
        int p = x.get().promptTokens();
        mine.add(
            new Scorer.Request(
                Arrays.copyOfRange(all, 0, p), Arrays.copyOfRange(all, p, all.length)));
      }
      fits[qi] = mine.size() == q.targets().size();
      if (fits[qi]) requests.addAll(mine);
    }
    Scorer.Result[] results = scorer.score(requests);

    List<Optional<Ranking>> out = new ArrayList<>(queries.size());
    for (int qi = 0; qi < queries.size(); qi++) {
      if (!fits[qi]) {
        out.add(Optional.empty());
        continue;
      }
      List<String> targets = queries.get(qi).targets();
      int k = targets.size();
      double[] lp = new double[k];
      int[] tokens = new int[k], chars = new int[k];
      for (int o = 0; o < k; o++) {
        Scorer.Result r = results[first[qi] + o];
        lp[o] = r.logprob();
        tokens[o] = r.tokens();
        chars[o] = targets.get(o).codePointCount(0, targets.get(o).length());
      }
      out.add(Optional.of(new Ranking(lp, tokens, chars)));
    }
    return out;
  }
}
