package dev.flantune.eval;

import dev.flantune.data.ChatFormat;
import dev.flantune.model.CausalLm;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;

/**
 * Greedy answers under a chat template: each prompt is a conversation already rendered with the
 * generation prompt ({@link ChatFormat#generationPrompt}); it is tokenized as chat training does
 * (one BOS at most), its start dropped to fit (never the BOS), and decoding stops at the model's
 * EOS ids or the template's end-of-turn token.
 */
final class ChatAnswerer implements Answerer {
  private final Generator generator;
  private final Tokenizer tokenizer;
  private final ChatFormat chat;
  private final int maxLength;

  ChatAnswerer(CausalLm model, Tokenizer tokenizer, ChatFormat chat, int maxLength) {
    this.generator = new Generator(model);
    this.tokenizer = tokenizer;
    this.chat = chat;
    this.maxLength = Math.min(maxLength, generator.contextLength());
  }

  /** The decoded reply to one rendered conversation, stripped of surrounding whitespace. */
  String answer(String renderedPrompt, int maxNewTokens) {
    return answer(List.of(renderedPrompt), maxNewTokens).get(0);
  }

  /** The conversation's ids (one BOS at most, start cut to fit) and its greedy settings. */
  Generator.Request request(String renderedPrompt, int maxNewTokens) {
    int[] ids = chat.encodeRendered(renderedPrompt);
    int bos = tokenizer.specialTokens().bosId();
    int lead = ids.length > 0 && bos >= 0 && ids[0] == bos ? 1 : 0;
    int room = Math.max(lead + 1, maxLength - maxNewTokens);
    if (ids.length > room) {
      int[] kept = new int[room];
      System.arraycopy(ids, 0, kept, 0, lead);
      System.arraycopy(ids, ids.length - (room - lead), kept, lead, room - lead);
      ids = kept;
    }
    int budget = Math.max(0, Math.min(maxNewTokens, maxLength - ids.length));
    return new Generator.Request(ids, Generator.Settings.greedy(budget, chat.stopIds()));
  }

  /**
   * Up to {@link GreedyAnswerer#BATCH} conversations decoded together (batched greedy decoding
   * gives each the tokens it gets alone), each row ending at EOS or the end-of-turn token.
   */
  @Override
  public List<String> answer(List<String> prompts, int maxNewTokens) {
    List<Generator.Request> requests = new ArrayList<>(prompts.size());
    for (String p : prompts) requests.add(request(p, maxNewTokens));
    List<String> out = new ArrayList<>(prompts.size());
    for (Generator.Result r : generator.generate(requests, GreedyAnswerer.BATCH))
      out.add(tokenizer.decode(r.tokens()).strip());
    return out;
  }

  @Override
  public int tokenCount(String text) {
    return tokenizer.encode(text).length;
  }
}
