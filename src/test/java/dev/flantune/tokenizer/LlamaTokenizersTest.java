package dev.flantune.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.data.ExampleTokenizer;
import dev.flantune.data.TokenizedExample;
import dev.flantune.data.Truncation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Llama-family tokenizers through DJL against independent Python references: SentencePiece BPE with
 * byte fallback (TinyLlama/Llama 2 layout, as a Prepend+Replace normalizer and as a Metaspace
 * pre-tokenizer; golden ids from {@code scripts/reference/sp_bpe_ref.py}) and Llama 3-style
 * byte-level BPE (golden ids from {@code gpt2_bpe.py} with Llama 3's split). Fixtures and their
 * sources: {@code scripts/reference/make_sp_tokenizer.py}, {@code make_llama3_tokenizer.py}.
 */
class LlamaTokenizersTest {
  static final Path FIXTURES = Path.of("src/test/resources/tokenizer");
  static final Path SP = FIXTURES.resolve("sp-bytefallback");
  static final Path SP_METASPACE = FIXTURES.resolve("sp-metaspace");
  static final Path LLAMA3 = FIXTURES.resolve("llama3-bytelevel");

  record Golden(String text, int[] ids, String decoded) {}

  static List<Golden> golden(Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Golden> out = new ArrayList<>();
    for (String line : Files.readAllLines(dir.resolve("golden.jsonl"))) {
      if (line.isBlank()) continue;
      JsonNode n = json.readTree(line);
      int[] ids = new int[n.get("ids").size()];
      for (int i = 0; i < ids.length; i++) ids[i] = n.get("ids").get(i).asInt();
      out.add(new Golden(n.get("text").asText(), ids, n.get("decoded").asText()));
    }
    return out;
  }

  /** Every golden string: DJL's ids, batched ids and decoded text equal the reference's. */
  static void checkGoldens(Path dir) throws IOException {
    List<Golden> cases = golden(dir);
    assertTrue(cases.size() >= 40, "fixture has " + cases.size() + " cases");
    int roundTrips = 0;
    try (Tokenizer tok = Tokenizer.load(dir)) {
      List<String> texts = new ArrayList<>();
      for (Golden g : cases) {
        assertArrayEquals(g.ids, tok.encode(g.text), dir.getFileName() + ": ids of " + g.text);
        assertEquals(g.decoded, tok.decode(g.ids), dir.getFileName() + ": decode of " + g.text);
        if (g.decoded.equals(g.text)) roundTrips++;
        texts.add(g.text);
      }
      int[][] batch = tok.encodeBatch(texts);
      for (int i = 0; i < cases.size(); i++) assertArrayEquals(cases.get(i).ids, batch[i]);
    }
    assertTrue(roundTrips >= cases.size() - 8, "round trips: " + roundTrips);
  }

  @Test
  void sentencePieceByteFallbackIdsMatchTheReference() throws IOException {
    checkGoldens(SP);
    checkGoldens(SP_METASPACE);
  }

  @Test
  void byteFallbackReallyFallsBackAndTextRoundTrips() throws IOException {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      // An emoji is not in the vocabulary: its four UTF-8 bytes become <0xF0> <0x9F> <0x98>
      // <0x80>, ids 3 + byte.
      int[] ids = tok.encode("😀");
      int[] tail = java.util.Arrays.copyOfRange(ids, ids.length - 4, ids.length);
      assertArrayEquals(new int[] {3 + 0xF0, 3 + 0x9F, 3 + 0x98, 3 + 0x80}, tail);
      for (String s : List.of("naïve 😀 日本", "  two leading", "a\nb\n\nc", "tail  "))
        assertEquals(s, tok.decode(tok.encode(s)), s);
      // "<s>" inside text is the special token (added tokens are matched first, as in HF).
      assertTrue(
          java.util.Arrays.stream(tok.encode("x<s>y")).anyMatch(id -> id == 1), "<s> literal");
    }
  }

  @Test
  void llama3ByteLevelIdsMatchTheReference() throws IOException {
    checkGoldens(LLAMA3);
    try (Tokenizer tok = Tokenizer.load(LLAMA3)) {
      for (Golden g : golden(LLAMA3)) assertEquals(g.text, g.decoded, "byte-level round trip");
    }
  }

  @Test
  void specialTokensOfTheFixturesFollowTheirConfigs() {
    SpecialTokens sp = SpecialTokens.read(SP);
    assertTrue(sp.addBos());
    assertEquals("<s>", sp.bosToken());
    assertEquals(1, sp.bosId());
    assertEquals(2, sp.eosId());
    assertEquals(Set.of(2), sp.eosIds());

    SpecialTokens l3 = SpecialTokens.read(LLAMA3);
    assertTrue(l3.addBos(), "no add_bos_token: the template's <|begin_of_text|> decides");
    assertEquals("<|begin_of_text|>", l3.bosToken());
    assertEquals(1256, l3.bosId());
    assertEquals("<|eot_id|>", l3.eosToken());
    assertEquals(1260, l3.eosId());
    assertEquals(List.of(1260, 1257), List.copyOf(l3.eosIds()));
    assertTrue(l3.chatTemplate().orElseThrow().startsWith("{{ bos_token }}"));
  }

  @Test
  void trainingExamplesStartWithOneBosAndMaskItOut() {
    try (Tokenizer tok = Tokenizer.load(SP)) {
      ExampleTokenizer et = new ExampleTokenizer(tok, 64);
      TokenizedExample x =
          et.tokenize("Question: who?", " Elizabeth", new Truncation()).orElseThrow();
      int[] prompt = tok.encode("Question: who?");
      int[] target = tok.encode(" Elizabeth");
      int[] ids = x.ids();
      assertEquals(1, ids[0], "BOS first");
      assertEquals(1 + prompt.length + target.length + 1, ids.length);
      assertArrayEquals(prompt, java.util.Arrays.copyOfRange(ids, 1, 1 + prompt.length));
      assertArrayEquals(
          target, java.util.Arrays.copyOfRange(ids, 1 + prompt.length, ids.length - 1));
      assertEquals(2, ids[ids.length - 1], "</s> last");
      for (int i = 0; i < ids.length; i++) {
        assertEquals(i > prompt.length ? 1 : 0, x.lossMask()[i], "mask at " + i);
      }
      assertEquals(1, java.util.Arrays.stream(ids).filter(id -> id == 1).count(), "one BOS");
    }
  }
}
