package dev.flantune.cli;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.checkpoint.DType;
import dev.flantune.eval.Generator;
import dev.flantune.model.CausalLm;
import dev.flantune.model.TinyModels;
import dev.flantune.tokenizer.Tokenizer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code flan-tune generate} end to end on a tiny byte-level checkpoint written by the test. */
class GenerateCommandTest {
  @TempDir static Path tmp;
  static Path modelDir;

  record Run(int code, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = FlanTune.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  /** GPT-2's byte-to-character table: the 256 byte tokens of a byte-level BPE with no merges. */
  static String byteVocabJson() {
    List<Integer> bs = new ArrayList<>();
    for (int b = '!'; b <= '~'; b++) bs.add(b);
    for (int b = 0xA1; b <= 0xAC; b++) bs.add(b);
    for (int b = 0xAE; b <= 0xFF; b++) bs.add(b);
    List<Integer> cs = new ArrayList<>(bs);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (!bs.contains(b)) {
        bs.add(b);
        cs.add(256 + n++);
      }
    }
    StringBuilder json = new StringBuilder("{");
    for (int i = 0; i < 256; i++) {
      String ch = new String(Character.toChars(cs.get(i)));
      json.append('"')
          .append(ch.equals("\"") ? "\\\"" : ch.equals("\\") ? "\\\\" : ch)
          .append("\":")
          .append(i)
          .append(',');
    }
    return json.append("\"<|endoftext|>\":256}").toString();
  }

  @BeforeAll
  static void writeCheckpoint() throws Exception {
    modelDir = tmp.resolve("tiny");
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(257, 64, 32, 2, 4, 256);
    CausalLm lm = TinyModels.random(c, 3);
    dev.flantune.model.Checkpoints.save(modelDir, c, lm.exportWeights(), DType.F32, null);
    Files.writeString(modelDir.resolve(Tokenizer.VOCAB_JSON), byteVocabJson());
    Files.writeString(modelDir.resolve(Tokenizer.MERGES_TXT), "#version: 0.2\n");
  }

  @Test
  void oneShotPrintsTheGreedyContinuation() {
    Run r =
        run(
            "generate",
            "--model",
            modelDir.toString(),
            "--prompt",
            "Hello",
            "--max-new-tokens",
            "12");
    assertEquals(0, r.code, r.err);
    CausalLm lm = CausalLm.load(modelDir);
    try (Tokenizer tok = Tokenizer.load(modelDir)) {
      Generator.Result want =
          new Generator(lm)
              .generate(tok.encode("Hello"), Generator.Settings.greedy(12, tok.eosId()));
      assertEquals(tok.decode(want.tokens()) + System.lineSeparator(), r.out);
      assertFalse(r.out.isBlank(), "a 12-token continuation printed nothing");
    }
  }

  @Test
  void samplingIsSeeded() {
    String[] args = {
      "generate",
      "--model",
      modelDir.toString(),
      "--prompt",
      "abc",
      "--max-new-tokens",
      "16",
      "--temperature",
      "1.0",
      "--top-p",
      "0.9",
      "--seed",
      "5"
    };
    Run a = run(args), b = run(args);
    assertEquals(0, a.code, a.err);
    assertEquals(a.out, b.out);
    args[args.length - 1] = "6";
    assertNotEquals(a.out, run(args).out);
  }

  @Test
  void interactiveModeAnswersEachLineUntilEof() {
    InputStream saved = System.in;
    try {
      System.setIn(new ByteArrayInputStream("Hello\nabc\n".getBytes(StandardCharsets.UTF_8)));
      Run r = run("generate", "--model", modelDir.toString(), "--max-new-tokens", "12");
      assertEquals(0, r.code, r.err);
      String[] lines = r.out.split(System.lineSeparator(), -1);
      assertEquals(3, lines.length, r.out); // two continuations, then the final newline
      Run hello =
          run(
              "generate",
              "--model",
              modelDir.toString(),
              "--prompt",
              "Hello",
              "--max-new-tokens",
              "12");
      assertEquals(hello.out, lines[0] + System.lineSeparator());
    } finally {
      System.setIn(saved);
    }
  }

  /** Lines decoded together print what one-at-a-time decoding prints, line for line. */
  @Test
  void batchedStandardInputEqualsOneLineAtATime() {
    InputStream saved = System.in;
    String input = "Hello\nabc\nThe cat sat on the\nx\nA longer line with more words in it\n";
    try {
      System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
      Run one = run("generate", "--model", modelDir.toString(), "--max-new-tokens", "12");
      System.setIn(new ByteArrayInputStream(input.getBytes(StandardCharsets.UTF_8)));
      Run batched =
          run(
              "generate",
              "--model",
              modelDir.toString(),
              "--max-new-tokens",
              "12",
              "--batch-size",
              "3");
      assertEquals(0, batched.code, batched.err);
      assertTrue(one.out.strip().length() > 10, one.out);
      assertEquals(one.out, batched.out);
    } finally {
      System.setIn(saved);
    }
  }

  @Test
  void badModelDirectoryIsExit3WithOneLine() {
    Run r = run("generate", "--model", tmp.resolve("missing").toString(), "--prompt", "x");
    assertEquals(3, r.code);
    assertEquals(1, r.err.strip().lines().count(), r.err);
    assertTrue(r.err.contains("missing"), r.err);
  }

  @Test
  void badOptionsAreExit2BeforeLoading() {
    Run r =
        run(
            "generate",
            "--model",
            tmp.resolve("missing").toString(),
            "--prompt",
            "x",
            "--top-p",
            "1.5");
    assertEquals(2, r.code, r.err);
    assertTrue(r.err.contains("top-p"), r.err);
    assertEquals(2, run("generate", "--model", modelDir.toString(), "--max-new-tokens", "-3").code);
  }
}
