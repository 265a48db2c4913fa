package dev.flantune.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * encodeBatch (DJL's JNI layer, ids only) must give exactly encode's ids, special tokens included.
 */
class EncodeBatchTest {
  @Test
  void batchedIdsEqualOneByOne() {
    List<String> texts =
        new ArrayList<>(
            List.of(
                "",
                "Hello world",
                " leading space",
                "tabs\tand\nnewlines\n\n",
                "unicode café ☕ 日本語 🙂",
                "<|endoftext|> inside text",
                "  ",
                "'s 're 've numbers 12345 3.14",
                "a"));
    SplittableRandom rng = new SplittableRandom(3);
    String alphabet = "abc XYZ\n\t.,!?'\"é日🙂0123456789 ";
    for (int i = 0; i < 200; i++) {
      StringBuilder sb = new StringBuilder();
      int n = rng.nextInt(40);
      for (int k = 0; k < n; k++)
        sb.appendCodePoint(
            alphabet.codePointAt(
                alphabet.offsetByCodePoints(
                    0, rng.nextInt(alphabet.codePointCount(0, alphabet.length())))));
      texts.add(sb.toString());
    }
    try (Tokenizer tok = Tokenizer.load(Path.of("data/tokenizers/gpt2/tokenizer.json"))) {
      int[][] batched = tok.encodeBatch(texts);
      assertEquals(texts.size(), batched.length);
      for (int i = 0; i < texts.size(); i++)
        assertArrayEquals(tok.encode(texts.get(i)), batched[i], texts.get(i));
      assertArrayEquals(new int[] {tok.eosId()}, tok.encodeBatch(List.of("<|endoftext|>"))[0]);
    }
  }
}
