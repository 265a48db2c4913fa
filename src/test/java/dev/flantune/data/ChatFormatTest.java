package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.chat.ChatTurn;
import dev.flantune.config.RunConfig;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training examples through a chat template: instruction examples as [user, assistant], chat data
 * with the loss on every assistant turn, truncation that never cuts the loss, BOS exactly once, and
 * one-line errors for a model without a template, a template that fails, and a template that ends
 * turns with no special token.
 */
class ChatFormatTest {
  static final Path QWEN = Path.of("src/test/resources/tokenizer/qwen2-chatml");
  static final Path LLAMA3 = Path.of("src/test/resources/tokenizer/llama3-bytelevel");
  static final Path SP = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  static final Path TASKS = Path.of("src/test/resources/tasks");

  @TempDir Path dir;

  @Test
  void chatDataTrainsOnEveryAssistantTurnAndNothingElse() {
    try (Tokenizer tok = Tokenizer.load(QWEN)) {
      ExampleTokenizer examples =
          new ExampleTokenizer(
              tok, 512, ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE));
      Task task = TaskRegistry.load(TASKS).task("chat_demo");
      List<Example> lines = task.split(Task.Split.TRAIN).first(2);
      Renderer renderer = new Renderer(RenderOptions.DEFAULTS);
      Truncation stats = new Truncation();
      TokenizedExample first = examples.tokenize(renderer.render(task, lines.get(0)), stats).get();
      assertEquals(List.of("Hello.<|im_end|>", "Apple.<|im_end|>"), lossRuns(tok, first));
      String text = tok.decode(first.ids());
      assertTrue(text.startsWith("<|im_start|>system\nBe brief.<|im_end|>\n"), text);
      assertTrue(text.endsWith("<|im_start|>assistant\nApple.<|im_end|>\n"), text);
      assertEquals(tok.encode("\n")[0], first.ids()[first.length() - 1], "newline after the turn");
      assertEquals(0, first.lossMask()[first.length() - 1], "…and it is not in the loss");
      // The plain flattening of the conversation does not leak into the chat path.
      assertFalse(text.contains("Assistant:"), text);

      TokenizedExample second =
          examples.tokenizeAll(List.of(renderer.render(task, lines.get(1))), stats).get(0).get();
      assertEquals(List.of("9<|im_end|>"), lossRuns(tok, second));
      assertEquals(2, stats.examples());
    }
  }

  @Test
  void instructionExampleIsTheUserTurnWithTheTargetAsReply() {
    try (Tokenizer tok = Tokenizer.load(QWEN)) {
      ChatFormat chat = ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE);
      Task task = TaskRegistry.load(TASKS).task("tiny_nli");
      Example ex = task.split(Task.Split.TRAIN).first(1).get(0);
      Rendered r = new Renderer(RenderOptions.DEFAULTS).render(task, ex);
      assertTrue(r.prompt().endsWith("\n"), "the plain prompt carries the separator");
      List<ChatTurn> turns = ChatFormat.conversation(r);
      assertEquals(
          List.of(
              ChatTurn.of("user", r.prompt().stripTrailing()),
              ChatTurn.of("assistant", r.target())),
          turns);
      ChatFormat.Marked m = chat.mark(turns, "x");
      assertEquals(
          "<|im_start|>user\n" + r.prompt().stripTrailing() + "<|im_end|>\n<|im_start|>assistant\n",
          m.text()
              .substring(
                  m.text().indexOf("<|im_start|>user"),
                  m.text().indexOf(r.target() + "<|im_end|>")));
      TokenizedExample x = ChatFormat.fit(m, 512).get();
      assertEquals(List.of(r.target() + "<|im_end|>"), lossRuns(tok, x));
      // Scoring an option asks about exactly the trained tokens: reply + end of turn.
      int[][] reply = chat.lastReply(turns, 512, "x").get();
      int p = x.promptTokens();
      assertArrayEquals(Arrays.copyOfRange(x.ids(), 0, p), reply[0]);
      assertArrayEquals(Arrays.copyOfRange(x.ids(), p, p + x.targetTokens()), reply[1]);
      assertEquals(chat.endOfTurnId(), reply[1][reply[1].length - 1]);
      assertTrue(chat.stopIds().contains(chat.endOfTurnId()));
      // The generation prompt is the text before the reply.
      assertEquals(tok.decode(reply[0]), chat.generationPrompt(ChatFormat.context(r)));
    }
  }

  @Test
  void truncationDropsTrailingScaffoldingThenTheStartButNeverTheLoss() throws IOException {
    try (Tokenizer tok = Tokenizer.load(LLAMA3)) {
      ChatFormat chat = ChatFormatGoldenTest.format(tok, "llama3.jinja");
      List<ChatTurn> turns =
          List.of(
              ChatTurn.of("user", "one two three four five six seven eight nine ten"),
              ChatTurn.of("assistant", "Yes indeed"));
      ChatFormat.Marked m = chat.mark(turns, "x");
      assertEquals(1, m.lead(), "the template writes BOS: it is kept, and not doubled");
      assertEquals(tok.specialTokens().bosId(), m.ids()[0]);
      assertTrue(m.ids()[1] != m.ids()[0]);
      int loss = 0;
      for (byte b : m.mask()) loss += b;
      int n = m.ids().length;
      TokenizedExample cut = ChatFormat.fit(m, n - 3).get();
      assertEquals(n - 3, cut.length());
      assertEquals(3, cut.droppedPromptTokens());
      assertEquals(m.ids()[0], cut.ids()[0], "BOS stays first");
      assertArrayEquals(
          Arrays.copyOfRange(m.ids(), n - loss, n),
          Arrays.copyOfRange(cut.ids(), n - 3 - loss, n - 3));
      assertEquals(loss, cut.targetTokens());
      assertTrue(ChatFormat.fit(m, loss + 2).isPresent(), "BOS, one token, the reply");
      assertEquals(Optional.empty(), ChatFormat.fit(m, loss + 1));
    }
  }

  @Test
  void aModelWhoseTemplateOmitsBosGetsItOnce() throws IOException {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      ChatFormat chat = ChatFormatGoldenTest.format(tok, "zephyr.jinja");
      String prompt = chat.generationPrompt(List.of(ChatTurn.of("user", "Hi")));
      assertFalse(prompt.contains("<s>"), prompt);
      int[] ids = chat.encodeRendered(prompt);
      assertEquals(tok.specialTokens().bosId(), ids[0]);
      assertEquals(1, Arrays.stream(ids).filter(i -> i == ids[0]).count());
      assertEquals(tok.specialTokens().eosId(), chat.endOfTurnId(), "Zephyr ends turns with </s>");
    }
  }

  @Test
  void missingChatTemplateIsOneLineNamingTheFileAndTheFix() {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      FlanTuneException e =
          assertThrows(
              FlanTuneException.class,
              () -> ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE));
      assertEquals(FlanTuneException.Kind.BAD_USAGE, e.kind());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertTrue(
          e.getMessage().contains(SP.toAbsolutePath().resolve("tokenizer_config.json").toString()),
          e.getMessage());
      assertTrue(e.getMessage().contains("has no 'chat_template'"), e.getMessage());
      assertTrue(e.getMessage().contains("data.prompt_format: plain"), e.getMessage());
      assertEquals(null, ChatFormat.forTraining(tok, RunConfig.PromptFormat.PLAIN));
    }
  }

  @Test
  void aTemplateThatFailsToRenderIsOneLine() throws IOException {
    Path model = withTemplate("{{ raise_exception('Conversation roles must alternate!') }}");
    try (Tokenizer tok = Tokenizer.load(model)) {
      FlanTuneException e =
          assertThrows(
              FlanTuneException.class,
              () -> ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE));
      assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertTrue(e.getMessage().contains("tokenizer_config.json"), e.getMessage());
      assertTrue(e.getMessage().contains("Conversation roles must alternate!"), e.getMessage());
    }
    Path broken = withTemplate("{% for m in messages %}{{ m.content }}");
    try (Tokenizer tok = Tokenizer.load(broken)) {
      FlanTuneException e =
          assertThrows(
              FlanTuneException.class,
              () -> ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE));
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertTrue(e.getMessage().contains("chat template"), e.getMessage());
    }
  }

  @Test
  void aTemplateWithoutAnEndOfTurnTokenIsRefused() throws IOException {
    Path model =
        withTemplate(
            "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}"
                + "{% if add_generation_prompt %}assistant: {% endif %}");
    try (Tokenizer tok = Tokenizer.load(model)) {
      FlanTuneException e =
          assertThrows(
              FlanTuneException.class,
              () -> ChatFormat.forTraining(tok, RunConfig.PromptFormat.CHAT_TEMPLATE));
      assertFalse(e.getMessage().contains("\n"), e.getMessage());
      assertTrue(e.getMessage().contains("not a special end-of-turn token"), e.getMessage());
    }
  }

  /** The Qwen-style fixture with another chat template. */
  private Path withTemplate(String template) throws IOException {
    Path model = Files.createTempDirectory(dir, "model");
    for (String f : List.of("tokenizer.json", "generation_config.json"))
      Files.copy(QWEN.resolve(f), model.resolve(f));
    ObjectMapper json = new ObjectMapper();
    ObjectNode tc = (ObjectNode) json.readTree(QWEN.resolve("tokenizer_config.json").toFile());
    tc.put("chat_template", template);
    json.writeValue(model.resolve("tokenizer_config.json").toFile(), tc);
    return model;
  }

  /** The decoded text of each run of loss tokens. */
  static List<String> lossRuns(Tokenizer tok, TokenizedExample x) {
    List<String> out = new ArrayList<>();
    byte[] m = x.lossMask();
    for (int i = 0; i < m.length; ) {
      if (m[i] == 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < m.length && m[j] == 1) j++;
      out.add(tok.decode(Arrays.copyOfRange(x.ids(), i, j)));
      i = j;
    }
    return out;
  }
}
