package dev.flantune.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The special-token rules of {@link SpecialTokens}, each on a model directory built from the tiny
 * byte-level tokenizer (507 tokens, {@code <|endoftext|>} = 506) plus added {@code <s>} = 507,
 * {@code </s>} = 508 and {@code <|eot_id|>} = 509.
 */
class SpecialTokensTest {
  static final Path TINY = Path.of("src/test/resources/tokenizer/tiny/tokenizer.json");
  static final ObjectMapper JSON = new ObjectMapper();
  static final int ENDOFTEXT = 506, S = 507, SLASH_S = 508, EOT = 509;

  @TempDir Path dir;

  /** Writes tokenizer.json: the tiny one with three added tokens, and a BOS template if asked. */
  void tokenizer(boolean bosTemplate) throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(TINY.toFile());
    ArrayNode added = (ArrayNode) root.get("added_tokens");
    String[] names = {"<s>", "</s>", "<|eot_id|>"};
    for (int i = 0; i < names.length; i++) {
      ObjectNode t = added.addObject();
      t.put("id", S + i);
      t.put("content", names[i]);
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    if (bosTemplate) {
      root.set(
          "post_processor",
          JSON.readTree(
              """
              {"type": "Sequence", "processors": [
                {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false,
                 "use_regex": true},
                {"type": "TemplateProcessing",
                 "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                            {"Sequence": {"id": "A", "type_id": 0}}],
                 "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                          {"Sequence": {"id": "A", "type_id": 0}},
                          {"SpecialToken": {"id": "<s>", "type_id": 1}},
                          {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {"<s>": {"id": "<s>", "ids": [507], "tokens": ["<s>"]}}}]}
              """));
    }
    Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
  }

  void write(String file, String json) throws IOException {
    Files.writeString(dir.resolve(file), json);
  }

  @Test
  void gpt2WithoutCompanionFilesKeepsEndOfTextAndNoBos() throws IOException {
    tokenizer(false);
    SpecialTokens s = SpecialTokens.read(dir);
    assertFalse(s.addBos());
    assertEquals(-1, s.prependedBos());
    assertEquals(ENDOFTEXT, s.eosId());
    assertEquals("<|endoftext|>", s.eosToken());
    assertEquals(List.of(ENDOFTEXT), List.copyOf(s.eosIds()));
    assertEquals("", s.bosToken());
    assertEquals(Optional.empty(), s.chatTemplate());
    assertArrayEquals(new int[] {1, 2}, s.withBos(new int[] {1, 2}));
  }

  @Test
  void bosTokenAsStringOrAsObject() throws IOException {
    tokenizer(false);
    write("tokenizer_config.json", "{\"add_bos_token\": true, \"bos_token\": \"<s>\"}");
    SpecialTokens s = SpecialTokens.read(dir);
    assertEquals("<s>", s.bosToken());
    assertEquals(S, s.bosId());
    assertTrue(s.addBos());
    write(
        "tokenizer_config.json",
        """
        {"add_bos_token": true,
         "bos_token": {"__type": "AddedToken", "content": "<s>", "lstrip": false,
                       "normalized": false, "rstrip": false, "single_word": false},
         "eos_token": {"__type": "AddedToken", "content": "</s>"}}
        """);
    s = SpecialTokens.read(dir);
    assertEquals("<s>", s.bosToken());
    assertEquals(S, s.bosId());
    assertEquals("</s>", s.eosToken());
    assertEquals(SLASH_S, s.eosId());
    assertArrayEquals(new int[] {S, 1, 2}, s.withBos(new int[] {1, 2}));
  }

  @Test
  void addBosTokenDecidesAndThePostProcessorDecidesWhenItIsAbsent() throws IOException {
    // Key absent: the post-processor decides.
    tokenizer(false);
    write("tokenizer_config.json", "{\"bos_token\": \"<s>\"}");
    assertFalse(SpecialTokens.read(dir).addBos(), "no template, key absent: no BOS");
    tokenizer(true);
    SpecialTokens s = SpecialTokens.read(dir);
    assertTrue(s.addBos(), "template prepends <s>, key absent: BOS");
    assertEquals(S, s.prependedBos());
    // The template alone names the token when tokenizer_config has none (Llama 3 style).
    Files.delete(dir.resolve("tokenizer_config.json"));
    s = SpecialTokens.read(dir);
    assertTrue(s.addBos());
    assertEquals("<s>", s.bosToken());
    // The key, when present, wins over the template either way.
    write("tokenizer_config.json", "{\"add_bos_token\": false, \"bos_token\": \"<s>\"}");
    assertFalse(SpecialTokens.read(dir).addBos(), "false beats the template");
    assertEquals(S, SpecialTokens.read(dir).bosId(), "the id is still known");
    tokenizer(false);
    write("tokenizer_config.json", "{\"add_bos_token\": true, \"bos_token\": \"<s>\"}");
    assertTrue(SpecialTokens.read(dir).addBos(), "true without a template");
  }

  @Test
  void eosListStopsAtEveryIdAndTheConfigEosIsAppended() throws IOException {
    tokenizer(true);
    write("tokenizer_config.json", "{\"bos_token\": \"<s>\", \"eos_token\": \"<|eot_id|>\"}");
    write("generation_config.json", "{\"bos_token_id\": 507, \"eos_token_id\": [508, 509]}");
    SpecialTokens s = SpecialTokens.read(dir);
    assertEquals(EOT, s.eosId(), "tokenizer_config's eos_token is the one appended");
    assertEquals(List.of(EOT, SLASH_S), List.copyOf(s.eosIds()));
    assertTrue(s.stopsAt(SLASH_S) && s.stopsAt(EOT) && !s.stopsAt(S));
    // Without tokenizer_config's eos_token: generation_config's first id.
    write("tokenizer_config.json", "{}");
    s = SpecialTokens.read(dir);
    assertEquals(SLASH_S, s.eosId());
    assertEquals("</s>", s.eosToken());
    assertEquals(List.of(SLASH_S, EOT), List.copyOf(s.eosIds()));
    // Without either: config.json, then <|endoftext|>.
    Files.delete(dir.resolve("generation_config.json"));
    write("config.json", "{\"eos_token_id\": 509, \"bos_token_id\": 507}");
    assertEquals(EOT, SpecialTokens.read(dir).eosId());
    write("generation_config.json", "{\"eos_token_id\": 508}");
    assertEquals(SLASH_S, SpecialTokens.read(dir).eosId(), "a single int works too");
  }

  @Test
  void chatTemplateIsAStringOrTheDefaultOfAList() throws IOException {
    tokenizer(false);
    write("tokenizer_config.json", "{\"chat_template\": \"{{ bos_token }}{{ messages }}\"}");
    assertEquals(
        Optional.of("{{ bos_token }}{{ messages }}"), SpecialTokens.read(dir).chatTemplate());
    write(
        "tokenizer_config.json",
        """
        {"chat_template": [{"name": "tool_use", "template": "T"},
                           {"name": "default", "template": "D"}]}
        """);
    assertEquals(Optional.of("D"), SpecialTokens.read(dir).chatTemplate());
    write("tokenizer_config.json", "{}");
    write("chat_template.jinja", "J");
    assertEquals(Optional.of("J"), SpecialTokens.read(dir).chatTemplate());
  }

  @Test
  void badFilesAreOneLineErrorsNamingFileAndKey() throws IOException {
    tokenizer(false);
    assertBad("tokenizer_config.json", "{\"bos_token\": \"<s>\",", "tokenizer_config.json", "JSON");
    assertBad(
        "tokenizer_config.json",
        "{\"eos_token\": \"<|nope|>\"}",
        "tokenizer_config.json",
        "eos_token");
    assertBad(
        "tokenizer_config.json",
        "{\"bos_token\": {\"x\": 1}}",
        "tokenizer_config.json",
        "bos_token");
    assertBad(
        "tokenizer_config.json",
        "{\"add_bos_token\": \"yes\"}",
        "tokenizer_config.json",
        "add_bos_token");
    assertBad(
        "tokenizer_config.json", "{\"add_bos_token\": true}", "tokenizer_config.json", "bos_token");
    Files.delete(dir.resolve("tokenizer_config.json"));
    assertBad(
        "generation_config.json",
        "{\"eos_token_id\": [508, \"x\"]}",
        "generation_config.json",
        "eos_token_id");
    assertBad(
        "generation_config.json",
        "{\"eos_token_id\": 99999}",
        "generation_config.json",
        "eos_token_id");
    assertBad("generation_config.json", "[1]", "generation_config.json", "object");
  }

  private void assertBad(String file, String content, String inMessage, String key)
      throws IOException {
    write(file, content);
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> SpecialTokens.read(dir));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertEquals(3, e.kind().exitCode);
    assertTrue(e.getMessage().contains(inMessage), e.getMessage());
    assertTrue(e.getMessage().contains(key), e.getMessage());
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    // The tokenizer refuses to load with the same error.
    FlanTuneException viaLoad = assertThrows(FlanTuneException.class, () -> Tokenizer.load(dir));
    assertEquals(e.getMessage(), viaLoad.getMessage());
  }

  @Test
  void theTokenizerCarriesTheRulesAndTheBosTemplateLoadsInDjl() throws IOException {
    tokenizer(true);
    write("tokenizer_config.json", "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"}");
    try (Tokenizer tok = Tokenizer.load(dir.resolve("tokenizer.json"))) {
      assertTrue(tok.specialTokens().addBos());
      assertEquals(SLASH_S, tok.eosId());
      // encode never adds special tokens itself: BOS is the caller's to add, exactly once.
      int[] ids = tok.encode("Hello");
      assertNotEquals(S, ids[0]);
      assertEquals(510, tok.vocabSize());
    }
  }
}
