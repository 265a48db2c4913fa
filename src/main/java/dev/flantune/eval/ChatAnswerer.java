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

  String answer(String renderedPrompt, int maxNewTokens) {
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
    Generator.Result r = generator.generate(ids, Generator.Settings.greedy(budget, chat.stopIds()));
    return tokenizer.decode(r.tokens()).strip();
  }

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
