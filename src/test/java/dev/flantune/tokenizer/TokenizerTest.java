package dev.flantune.tokenizer;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Token ids equal the reference GPT-2 BPE (gpt-3-encoder, cross-checked by an independent Python
 * BPE) on tricky strings: Unicode, whitespace runs, numbers, contractions, and a text longer than
 * DJL's default 512-token truncation. Where the reference encoder differs from Hugging Face's
 * tokenizers (literal "<|endoftext|>", JavaScript's \s), the fixture records the HF ids.
 */
class TokenizerTest {
  static final Path GPT2 = Path.of("data/tokenizers/gpt2/tokenizer.json");
  static final Path GOLDEN = Path.of("src/test/resources/tokenizer/gpt2-golden.jsonl");
  @TempDir Path dir;

  record Golden(String text, int[] ids) {}

  static List<Golden> golden() throws IOException {
    ObjectMapper json = new ObjectMapper();
    List<Golden> out = new ArrayList<>();
    for (String line : Files.readAllLines(GOLDEN)) {
      if (line.isBlank()) continue;
      JsonNode n = json.readTree(line);
      JsonNode ids = n.has("ids_hf") ? n.get("ids_hf") : n.get("ids");
      int[] a = new int[ids.size()];
      for (int i = 0; i < a.length; i++) a[i] = ids.get(i).asInt();
      out.add(new Golden(n.get("text").asText(), a));
    }
    return out;
  }

  @Test
  void idsMatchTheReferenceBpe() throws IOException {
    List<Golden> cases = golden();
    assertTrue(cases.size() >= 40);
    boolean sawLong = false;
    try (Tokenizer tok = Tokenizer.load(GPT2)) {
      for (Golden g : cases) {
        assertArrayEquals(
            g.ids,
            tok.encode(g.text),
            "ids of " + g.text.substring(0, Math.min(40, g.text.length())));
        sawLong |= g.ids.length > 512;
        if (g.ids.length > 0) assertEquals(g.text, tok.decode(g.ids), "decode round trip");
      }
      assertEquals(50256, tok.eosId());
      assertEquals(50257, tok.vocabSize());
    }
    assertTrue(sawLong, "the fixture must include a text longer than 512 tokens");
  }

  @Test
  void vocabAndMergesFilesGiveTheSameIds() throws IOException {
    // Convert tokenizer.json's BPE model into GPT-2's original vocab.json + merges.txt layout.
    ObjectMapper json = new ObjectMapper();
    JsonNode model = json.readTree(GPT2.toFile()).get("model");
    Files.writeString(dir.resolve("vocab.json"), json.writeValueAsString(model.get("vocab")));
    StringBuilder merges = new StringBuilder("#version: 0.2\n");
    for (JsonNode m : model.get("merges")) {
      merges
          .append(m.isArray() ? m.get(0).asText() + " " + m.get(1).asText() : m.asText())
          .append('\n');
    }
    Files.writeString(dir.resolve("merges.txt"), merges);
    try (Tokenizer a = Tokenizer.load(GPT2);
        Tokenizer b = Tokenizer.load(dir)) {
      for (Golden g : golden()) assertArrayEquals(a.encode(g.text), b.encode(g.text), g.text);
      assertEquals(a.eosId(), b.eosId());
      assertEquals(a.vocabSize(), b.vocabSize());
    }
  }

  @Test
  void missingOrBrokenTokenizerIsABadInput() throws IOException {
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> Tokenizer.load(dir));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertTrue(e.getMessage().contains("no tokenizer found"));
    Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": 3");
    e = assertThrows(FlanTuneException.class, () -> Tokenizer.load(dir));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
