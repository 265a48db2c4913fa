package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.chat.ChatTemplate;
import dev.flantune.chat.ChatTurn;
import dev.flantune.tokenizer.SpecialTokens;
import dev.flantune.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Chat-template training examples token by token against chat/masks.json, which
 * scripts/reference/make_chat_mask_golden.py computes with jinja2 and plain-Python tokenizers from
 * character offsets (the Java side aligns tokenizations instead): ChatML (Qwen2.5's template on a
 * Qwen2-style tokenizer), Llama 3 and Zephyr (on a SentencePiece tokenizer whose model adds BOS and
 * whose template does not), over a FLAN prompt, a reply starting with a newline (whose first token
 * straddles the boundary under ChatML), a multi-turn conversation with a system turn and non-ASCII
 * text, and an empty reply (only the end-of-turn token is in the loss).
 */
class ChatFormatGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RESOURCES = Path.of("src/test/resources");

  static Stream<Arguments> cases() throws IOException {
    JsonNode golden = JSON.readTree(RESOURCES.resolve("chat/masks.json").toFile());
    List<Arguments> out = new ArrayList<>();
    for (JsonNode c : golden.get("cases"))
      out.add(Arguments.of(c.get("style").textValue(), c.get("conversation").textValue(), c));
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("cases")
  void idsAndMaskMatchTheReference(String style, String conversation, JsonNode c)
      throws IOException {
    try (Tokenizer tok =
        Tokenizer.load(RESOURCES.resolve("tokenizer").resolve(c.get("tokenizer").textValue()))) {
      ChatFormat chat = format(tok, c.get("template").textValue());
      List<ChatTurn> turns = new ArrayList<>();
      for (JsonNode m : c.get("messages"))
        turns.add(ChatTurn.of(m.get("role").textValue(), m.get("content").textValue()));
      ChatFormat.Marked marked = chat.mark(turns, conversation);
      assertEquals(c.get("text").textValue(), marked.text());
      int[] ids = ints(c.get("input_ids"));
      assertArrayEquals(ids, marked.ids(), "input_ids");
      byte[] mask = new byte[ids.length];
      for (int i = 0; i < mask.length; i++) mask[i] = (byte) c.get("loss_mask").get(i).asInt();
      assertArrayEquals(mask, marked.mask(), () -> "loss_mask\n" + show(tok, marked));
    }
  }

  static ChatFormat format(Tokenizer tok, String templateFile) throws IOException {
    SpecialTokens special = tok.specialTokens();
    String source = Files.readString(RESOURCES.resolve("chat/templates").resolve(templateFile));
    return ChatFormat.of(
        tok,
        ChatTemplate.of(
            source,
            templateFile,
            new ChatTemplate.Settings(special.bosToken(), special.eosToken(), null, null)));
  }

  private static int[] ints(JsonNode a) {
    int[] out = new int[a.size()];
    for (int i = 0; i < out.length; i++) out[i] = a.get(i).asInt();
    return out;
  }

  /** Each token with its mask bit, to read a failure. */
  private static String show(Tokenizer tok, ChatFormat.Marked m) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < m.ids().length; i++)
      sb.append(m.mask()[i] == 1 ? "[" : "")
          .append(tok.decode(new int[] {m.ids()[i]}).replace("\n", "\\n"))
          .append(m.mask()[i] == 1 ? "]" : "")
          .append('|');
    return sb.toString();
  }
}
