package dev.flantune.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.ChatFormat;
import dev.flantune.model.CausalLm;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ModelInit;
import dev.flantune.model.family.LlamaFamily;
import dev.flantune.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Chat-format generative evaluation decodes its conversations together and gets, for each, the
 * reply the one-at-a-time decoder gives it: the same tokens, stopping at the same end-of-turn
 * token.
 */
class ChatAnswererTest {
  static final Path QWEN = Path.of("src/test/resources/tokenizer/qwen2-chatml");

  /**
   * A random tiny Llama over the ChatML fixture (1,256 tokens + 3 specials) whose head favours
   * {@code <|im_end|>} enough that some replies end there and others run to the token limit.
   */
  static CausalLm chatModel(int endOfTurn, float favour) {
    ModelConfig c = LlamaFamily.of("llama", 1259, 96, 32, 2, 4, 2, 64, 1e4, false, null, 1256);
    Map<String, Tensor> w = ModelInit.randomWeights(c, 7);
    for (Tensor t : w.values())
      if (t.shape().length >= 2) for (int i = 0; i < t.data().length; i++) t.data()[i] *= 10f;
    float[] head = w.get("lm_head.weight").data();
    for (int i = endOfTurn * 32; i < (endOfTurn + 1) * 32; i++) head[i] *= favour;
    return CausalLm.fromTensors(c, w, null);
  }

  @Test
  void batchedRepliesEqualOneAtATimeAndStopAtTheEndOfTurn() {
    try (Tokenizer tok = Tokenizer.load(QWEN)) {
      ChatFormat chat = ChatFormat.of(tok, "test", "none");
      int eot = chat.endOfTurnId();
      assertEquals(1258, eot); // <|im_end|> in the fixture
      CausalLm lm = chatModel(eot, 2f); // 10 of 20 replies end at <|im_end|>, 9 run out
      ChatAnswerer answerer = new ChatAnswerer(lm, tok, chat, 64);
      List<String> prompts = new ArrayList<>();
      String[] words = {"apple", "river", "seven", "blue", "quiet", "stone", "light", "paper"};
      for (int i = 0; i < 20; i++) {
        StringBuilder q = new StringBuilder("Question " + i + ":");
        for (int j = 0; j <= (i * 7) % 23; j++) q.append(' ').append(words[(i + j) % words.length]);
        if (i == 19) q.append(" and so on".repeat(20)); // longer than the room: its start is cut
        prompts.add(chat.generationPrompt(List.of(ChatFormat.userTurn(q.toString()))));
      }
      int maxNew = 12;
      List<String> batched = answerer.answer(prompts, maxNew);

      Generator solo = new Generator(lm);
      int endedByTurn = 0, ranOut = 0;
      for (int i = 0; i < prompts.size(); i++) {
        Generator.Request r = answerer.request(prompts.get(i), maxNew);
        assertTrue(r.settings().eosIds().contains(eot), "stops at the end-of-turn token");
        assertEquals(chat.stopIds(), r.settings().eosIds());
        Generator.Result one = solo.generate(r.prompt(), r.settings());
        assertEquals(tok.decode(one.tokens()).strip(), batched.get(i), "prompt " + i);
        if (one.stop() == Generator.Stop.EOS) {
          // Without the stop ids the decoder writes <|im_end|> right there.
          Generator.Result on =
              solo.generate(r.prompt(), Generator.Settings.greedy(maxNew, Set.of()));
          if (on.tokens().length > one.tokens().length && on.tokens()[one.tokens().length] == eot)
            endedByTurn++;
        } else ranOut++;
      }
      assertTrue(endedByTurn >= 3 && ranOut >= 3, endedByTurn + " ended, " + ranOut + " ran out");
      assertTrue(answerer.request(prompts.get(19), maxNew).prompt().length <= 64 - maxNew);
    }
  }
}
