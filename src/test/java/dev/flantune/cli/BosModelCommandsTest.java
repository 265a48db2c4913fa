package dev.flantune.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.checkpoint.DType;
import dev.flantune.eval.Generator;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Scorer;
import dev.flantune.model.TinyModels;
import dev.flantune.tokenizer.Tokenizer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code score} and {@code generate} on a checkpoint whose tokenizer uses BOS (the TinyLlama-style
 * SentencePiece fixture: {@code <s>} = 1, {@code </s>} = 2): the CLI's numbers equal the model's on
 * {@code [<s>] ++ ids(prompt)}, so BOS is there exactly once.
 */
class BosModelCommandsTest {
  static final Path SP = Path.of("src/test/resources/tokenizer/sp-bytefallback");
  @TempDir static Path tmp;
  static Path modelDir;
  static CausalLm lm;

  @BeforeAll
  static void writeCheckpoint() throws Exception {
    modelDir = tmp.resolve("bos-model");
    // A Llama (RoPE, two KV heads) with a SentencePiece tokenizer that uses BOS, as TinyLlama.
    var c =
        dev.flantune.model.family.LlamaFamily.of(
            "llama", 728, 64, 32, 2, 4, 2, 64, 1e4, true, 1, 2);
    lm = TinyModels.random(c, 5);
    dev.flantune.model.Checkpoints.save(modelDir, c, lm.exportWeights(), DType.F32, null);
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json"))
      Files.copy(SP.resolve(f), modelDir.resolve(f));
  }

  static String run(String... args) {
    StringWriter out = new StringWriter(), err = new StringWriter();
    int code = FlanTune.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    assertEquals(0, code, err.toString());
    return out.toString();
  }

  @Test
  void scorePutsBosOnceBeforeThePromptAndAloneForAnEmptyPrompt() throws Exception {
    Path in = tmp.resolve("in.jsonl");
    Files.writeString(
        in,
        "{\"prompt\": \"The House\", \"completion\": \" of Commons\"}\n"
            + "{\"prompt\": \"\", \"completion\": \"Hello\"}\n");
    String[] lines =
        run("score", "--model", modelDir.toString(), "--input", in.toString()).split("\n");
    ObjectMapper json = new ObjectMapper();
    try (Tokenizer tok = Tokenizer.load(modelDir)) {
      List<Scorer.Request> want =
          List.of(
              new Scorer.Request(
                  tok.specialTokens().withBos(tok.encode("The House")), tok.encode(" of Commons")),
              new Scorer.Request(new int[] {1}, tok.encode("Hello")));
      Scorer.Result[] r = new Scorer(lm, 4).score(want);
      for (int i = 0; i < 2; i++) {
        JsonNode got = json.readTree(lines[i]);
        assertEquals(r[i].logprob(), got.get("logprob").asDouble(), 1e-9, "line " + i);
        assertEquals(want.get(i).continuation().length, got.get("tokens").asInt());
      }
      // Without the BOS the score differs: the check above can fail.
      Scorer.Result noBos =
          new Scorer(lm, 4)
              .score(
                  List.of(new Scorer.Request(tok.encode("The House"), tok.encode(" of Commons"))))[
              0];
      assertNotEquals(r[0].logprob(), noBos.logprob(), 1e-9);
    }
  }

  @Test
  void generateStartsFromBosAndThePrompt() {
    String got =
        run(
            "generate",
            "--model",
            modelDir.toString(),
            "--prompt",
            "Hello",
            "--max-new-tokens",
            "8");
    try (Tokenizer tok = Tokenizer.load(modelDir)) {
      int[] prompt = tok.specialTokens().withBos(tok.encode("Hello"));
      assertEquals(1, prompt[0]);
      Generator.Result r =
          new Generator(lm).generate(prompt, Generator.Settings.greedy(8, Set.of(2)));
      assertEquals(tok.decode(r.tokens()) + "\n", got);
    }
  }
}
