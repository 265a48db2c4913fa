package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.model.Scorer;
import dev.flantune.model.TinyModels;
import dev.flantune.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Evaluation with a tokenizer that uses BOS (the TinyLlama-style fixture, {@code <s>} = 1, {@code
 * </s>} = 2): greedy answers start from {@code [<s>] ++ ids(prompt)}, and rank classification
 * scores {@code [<s>] ++ ids(prompt) ++ ids(option) ++ [</s>]}, as training builds examples.
 */
class BosEvaluationTest {
  static final Path SP = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  static final CausalLm LM =
      TinyModels.random(
          dev.flantune.model.family.LlamaFamily.of(
              "llama", 728, 48, 32, 2, 4, 2, 64, 1e4, true, 1, 2),
          11);

  @Test
  void greedyAnswersStartFromBosAndThePrompt() {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      String got = new GreedyAnswerer(LM, tok, 48).answer("Pride and", 6);
      int[] prompt = tok.specialTokens().withBos(tok.encode("Pride and"));
      Generator.Result r =
          new Generator(LM).generate(prompt, Generator.Settings.greedy(6, Set.of(2)));
      assertEquals(tok.decode(r.tokens()).strip(), got);
    }
  }

  @Test
  void rankClassificationScoresOptionsAfterOneBos() {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      List<String> options = List.of(" yes", " no");
      RankClassifier.Ranking got =
          new RankClassifier(LM, tok, 48, 4)
              .rank(List.of(new RankClassifier.Query("Is it so?", options)))
              .get(0)
              .orElseThrow();
      int[] prompt = tok.encode("Is it so?");
      for (int o = 0; o < options.size(); o++) {
        int[] target = tok.encode(options.get(o));
        int[] ctx = new int[prompt.length + 1];
        ctx[0] = 1;
        System.arraycopy(prompt, 0, ctx, 1, prompt.length);
        int[] cont = Arrays.copyOf(target, target.length + 1);
        cont[target.length] = 2;
        Scorer.Result want = new Scorer(LM, 4).score(List.of(new Scorer.Request(ctx, cont)))[0];
        assertEquals(
            want.logprob(), got.logprob()[o], 1e-5, options.get(o)); // batching: float rounding
        assertEquals(target.length + 1, got.tokens()[o]);
      }
    }
  }
}
