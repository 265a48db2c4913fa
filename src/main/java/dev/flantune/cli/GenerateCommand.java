package dev.flantune.cli;

import dev.flantune.eval.Generator;
import dev.flantune.model.CausalLm;
import dev.flantune.tokenizer.SpecialTokens;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune generate}: continues a prompt with the KV-cache {@link Generator}. With {@code
 * --prompt} it prints the one continuation; without, it reads prompts from standard input, one a
 * line until EOF, and prints one continuation a line, each decoded with the same seed. Standard
 * output carries only continuations (streamed as they are decoded), so it can be piped.
 *
 * <p>The prompt is tokenized with no special tokens, as in training, after BOS where the model uses
 * one; without BOS an empty prompt starts from EOS. Generation stops at any of the model's EOS ids
 * ({@link SpecialTokens#eosIds}). A prompt longer than the context keeps its last n_positions − 1
 * tokens (BOS kept, with a warning). {@code --batch-size B} decodes B lines of standard input at a
 * time together, printing each group's continuations when the group is done.
 */
@Command(
    name = "generate",
    mixinStandardHelpOptions = true,
    description =
        "Generate a continuation (greedy or sampled) with a KV cache; interactive without --prompt.")
final class GenerateCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--model",
      required = true,
      description = "Checkpoint directory (Hugging Face layout) with its tokenizer.")
  Path model;

  @Option(
      names = "--adapter",
      description = "A LoRA adapter directory (PEFT layout) to apply to --model.")
  Path adapter;

  @Option(
      names = "--prompt",
      description = "Prompt text; without it, prompts are read from standard input, one a line.")
  String prompt;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "64",
      description = "Most tokens to generate (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(
      names = "--temperature",
      defaultValue = "0",
      description = "Sampling temperature; 0 is greedy decoding (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(
      names = "--top-p",
      defaultValue = "1.0",
      description =
          "Nucleus sampling: sample from the most likely tokens that reach this probability (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--batch-size",
      defaultValue = "1",
      description =
          "Prompts from standard input decoded together, up to this many lines at a time (each"
              + " continuation printed when its group is done; 1 streams tokens as they come;"
              + " default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Override
  public Integer call() throws IOException {
    validateOptions(); // before the slow model load
    ModelArgs args = ModelArgs.of(model, adapter);
    CausalLm lm = args.load();
    try (Tokenizer tok = Tokenizer.load(args.tokenizer())) {
      Set<Integer> eos = tok.specialTokens().eosIds();
      if (eos.isEmpty() && eosOf(lm) >= 0) eos = Set.of(eosOf(lm));
      Generator.Settings s = new Generator.Settings(maxNewTokens, temperature, topP, seed, eos);
      Generator generator = new Generator(lm);
      PrintWriter out = spec.commandLine().getOut();
      if (prompt != null) {
        continueText(prompt, generator, tok, s, out);
        return 0;
      }
      boolean interactive = System.console() != null;
      PrintWriter err = spec.commandLine().getErr();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      if (batchSize > 1) {
        continueBatches(in, generator, tok, s, out);
        return 0;
      }
      while (true) {
        if (interactive) {
          err.print("> ");
          err.flush();
        }
        String line = in.readLine();
        if (line == null) return 0;
        continueText(line, generator, tok, s, out);
      }
    }
  }

  private void validateOptions() {
    if (batchSize < 1) throw FlanTuneException.badUsage("--batch-size must be >= 1");
    try {
      new Generator.Settings(maxNewTokens, temperature, topP, seed, -1);
    } catch (IllegalArgumentException e) {
      throw FlanTuneException.badUsage(e.getMessage().replace("maxNewTokens", "--max-new-tokens"));
    }
  }

  private static int eosOf(CausalLm lm) {
    Integer eos = lm.config().eosTokenId();
    return eos == null ? -1 : eos;
  }

  /** Reads up to --batch-size lines, decodes them together, prints their lines in order. */
  private void continueBatches(
      BufferedReader in, Generator generator, Tokenizer tok, Generator.Settings s, PrintWriter out)
      throws IOException {
    while (true) {
      List<Generator.Request> group = new ArrayList<>();
      String line = null;
      while (group.size() < batchSize && (line = in.readLine()) != null)
        group.add(new Generator.Request(promptIds(line, generator, tok, s), s));
      for (Generator.Result r : generator.generate(group, batchSize)) {
        out.println(tok.decode(r.tokens()));
      }
      out.flush();
      if (line == null) return;
    }
  }

  /** Generates after {@code text} and prints the continuation as it is decoded, then a newline. */
  private void continueText(
      String text, Generator generator, Tokenizer tok, Generator.Settings s, PrintWriter out) {
    TextStream stream = new TextStream(tok, out);
    generator.generate(promptIds(text, generator, tok, s), s, stream::accept);
    stream.finish();
    out.println();
    out.flush();
  }

  /** The prompt's ids: BOS where the model uses one, the start cut to fit the context. */
  private int[] promptIds(String text, Generator generator, Tokenizer tok, Generator.Settings s) {
    SpecialTokens special = tok.specialTokens();
    int[] ids = tok.encode(text);
    if (ids.length == 0 && !special.addBos()) {
      if (s.eosIds().isEmpty())
        throw FlanTuneException.badUsage(
            "empty prompt and the tokenizer has no EOS token to start from");
      ids = new int[] {tok.eosId() >= 0 ? tok.eosId() : s.eosIds().iterator().next()};
    }
    int keep = generator.contextLength() - 1;
    int lead = special.addBos() ? 1 : 0;
    if (ids.length + lead > keep) {
      spec.commandLine()
          .getErr()
          .printf(
              "flan-tune: warning: prompt has %d tokens; keeping the last %d (n_positions %d)%n",
              ids.length + lead, keep, keep + 1);
      ids = Arrays.copyOfRange(ids, ids.length - (keep - lead), ids.length);
    }
    return special.withBos(ids);
  }

  /**
   * Prints decoded text as tokens arrive. A byte-level BPE token can end inside a UTF-8 character,
   * so text is printed only up to a point where the decoded string does not end in U+FFFD, and the
   * whole continuation is re-decoded each time (continuations are short; this keeps it exact).
   */
  static final class TextStream {
    private final Tokenizer tok;
    private final PrintWriter out;
    private int[] ids = new int[0];
    private String printed = ""; // the decoded continuation printed so far

    TextStream(Tokenizer tok, PrintWriter out) {
      this.tok = tok;
      this.out = out;
    }

    void accept(int id) {
      ids = Arrays.copyOf(ids, ids.length + 1);
      ids[ids.length - 1] = id;
      String text = tok.decode(ids);
      if (!text.endsWith("\uFFFD")) emit(text);
    }

    void finish() {
      emit(tok.decode(ids));
    }

    private void emit(String text) {
      // Byte-level decoding only ever extends the text once it has no trailing U+FFFD.
      if (text.length() > printed.length() && text.startsWith(printed)) {
        out.print(text.substring(printed.length()));
        out.flush();
        printed = text;
      }
    }
  }
}
