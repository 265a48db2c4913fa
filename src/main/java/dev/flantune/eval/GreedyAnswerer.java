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
  /** Rows decoded together: past 16 a step's GEMMs gain little on the models this runs. */
  static final int BATCH = 16;

  private final Generator generator;
  private final Tokenizer tokenizer;
  private final int maxLength;

  GreedyAnswerer(CausalLm model, Tokenizer tokenizer, int maxLength) {
    this.generator = new Generator(model);
    this.tokenizer = tokenizer;
    this.maxLength = Math.min(maxLength, generator.contextLength());
  }

  /** The decoded continuation of one prompt, stripped of surrounding whitespace. */
  String answer(String prompt, int maxNewTokens) {
    return answer(List.of(prompt), maxNewTokens).get(0);
  }

  /** The prompt's ids (BOS, start cut to fit) and its greedy settings. */
  private Generator.Request request(String prompt, int maxNewTokens) {
    SpecialTokens special = tokenizer.specialTokens();
    int[] ids = tokenizer.encode(prompt);
    if (ids.length == 0 && !special.addBos())
      ids = new int[] {tokenizer.eosId()}; // GPT-2's document separator, as in training
    int lead = special.addBos() ? 1 : 0;
    int room = Math.max(1, maxLength - maxNewTokens) - lead;
    if (ids.length > room) ids = Arrays.copyOfRange(ids, ids.length - room, ids.length);
    ids = special.withBos(ids);
    int budget = Math.min(maxNewTokens, maxLength - ids.length);
    return new Generator.Request(ids, Generator.Settings.greedy(budget, special.eosIds()));
  }

  /**
   * Up to {@link #BATCH} prompts decoded together (batched greedy decoding gives each the tokens it
   * gets alone).
   */
  @Override
  public List<String> answer(List<String> prompts, int maxNewTokens) {
    List<Generator.Request> requests = new ArrayList<>(prompts.size());
    for (String p : prompts) requests.add(request(p, maxNewTokens));
    List<String> out = new ArrayList<>(prompts.size());
    for (Generator.Result r : generator.generate(requests, BATCH))
      out.add(tokenizer.decode(r.tokens()).strip());
    return out;
  }

  @Override
  public int tokenCount(String text) {
    return tokenizer.encode(text).length;
  }
}
