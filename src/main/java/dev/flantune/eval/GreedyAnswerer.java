package dev.flantune.eval;

import dev.flantune.model.CausalLm;
import dev.flantune.tokenizer.SpecialTokens;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Answers a prompt by greedy decoding (the protocol's decoding for generation tasks), stopping at
 * any of the model's EOS ids or after {@code maxNewTokens}. As in training, the prompt starts with
 * BOS where the model uses one, and its start (never the BOS) is dropped when it does not fit; here
 * the room kept is for the new tokens instead of the target.
 */
final class GreedyAnswerer implements Answerer {
  private final Generator generator;
  private final Tokenizer tokenizer;
  private final int maxLength;

  GreedyAnswerer(CausalLm model, Tokenizer tokenizer, int maxLength) {
    this.generator = new Generator(model);
    this.tokenizer = tokenizer;
    this.maxLength = Math.min(maxLength, generator.contextLength());
  }

  /** The decoded continuation, stripped of surrounding whitespace. */
  String answer(String prompt, int maxNewTokens) {
    SpecialTokens special = tokenizer.specialTokens();
    int[] ids = tokenizer.encode(prompt);
    if (ids.length == 0 && !special.addBos())
      ids = new int[] {tokenizer.eosId()}; // GPT-2's document separator, as in training
    int lead = special.addBos() ? 1 : 0;
    int room = Math.max(1, maxLength - maxNewTokens) - lead;
    if (ids.length > room) ids = Arrays.copyOfRange(ids, ids.length - room, ids.length);
    ids = special.withBos(ids);
    int budget = Math.min(maxNewTokens, maxLength - ids.length);
    Generator.Result r =
        generator.generate(ids, Generator.Settings.greedy(budget, special.eosIds()));
    return tokenizer.decode(r.tokens()).strip();
  }

  /** One prompt after another (the decoder keeps one sequence's cache). */
  @Override
  public List<String> answer(List<String> prompts, int maxNewTokens) {
    List<String> out = new ArrayList<>(prompts.size());
    for (String p : prompts) out.add(answer(p, maxNewTokens));
    return out;
  }

  @Override
  public int tokenCount(String text) {
    return tokenizer.encode(text).length;
  }
}
