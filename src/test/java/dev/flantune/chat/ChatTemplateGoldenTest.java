package dev.flantune.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every case of chat/golden.json (rendered by Python's jinja2 with transformers' settings,
 * scripts/reference/render_chat_golden.py): real templates (Qwen2.5 with its default system message
 * and tools, Llama 3 and 3.2, Zephyr, SmolLM2, Mistral's raise_exception) and one that uses every
 * construct jinjava lacks natively, over single and multi-turn conversations, with and without a
 * system turn and the generation prompt. The Java text must be byte-identical; where Python raised,
 * Java must fail with the template's message.
 */
class ChatTemplateGoldenTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final LocalDateTime GOLDEN_NOW = LocalDateTime.of(2024, 7, 26, 9, 5, 0);

  static Stream<Arguments> cases() throws IOException {
    JsonNode golden = read("golden.json");
    List<Arguments> cases = new ArrayList<>();
    for (JsonNode c : golden.get("cases")) {
      cases.add(
          Arguments.of(
              c.get("template").textValue(),
              c.get("conversation").textValue(),
              c.get("add_generation_prompt").booleanValue(),
              c));
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "{0} {1} add_generation_prompt={2}")
  @MethodSource("cases")
  void javaRendersAsJinja2(String template, String conversation, boolean agp, JsonNode expected)
      throws IOException {
    ChatTemplate t = load(template);
    JsonNode conv = read("conversations.json").get(conversation);
    @SuppressWarnings("unchecked")
    List<Map<String, ?>> messages = (List<Map<String, ?>>) PyJson.fromJson(conv.get("messages"));
    Map<String, Object> extra = new HashMap<>();
    conv.fields()
        .forEachRemaining(
            e -> {
              if (!e.getKey().equals("messages"))
                extra.put(e.getKey(), PyJson.fromJson(e.getValue()));
            });
    if (expected.has("text")) {
      assertEquals(expected.get("text").textValue(), t.render(messages, extra, agp));
    } else {
      FlanTuneException e =
          assertThrows(FlanTuneException.class, () -> t.render(messages, extra, agp));
      String raised = expected.get("error").textValue();
      assertTrue(e.getMessage().contains("template raised: " + raised), e.getMessage());
      assertTrue(e.getMessage().startsWith(template), e.getMessage());
      assertEquals(1, e.getMessage().lines().count());
    }
  }

  static ChatTemplate load(String template) throws IOException {
    String source =
        new String(resource("templates/" + template).readAllBytes(), StandardCharsets.UTF_8);
    return ChatTemplate.of(
        source, template, new ChatTemplate.Settings("<s>", "</s>", GOLDEN_NOW, null));
  }

  private static JsonNode read(String name) throws IOException {
    try (InputStream in = resource(name)) {
      return JSON.readTree(in);
    }
  }

  private static InputStream resource(String name) {
    InputStream in = ChatTemplateGoldenTest.class.getResourceAsStream("/chat/" + name);
    if (in == null) throw new IllegalStateException("missing test resource chat/" + name);
    return in;
  }
}
