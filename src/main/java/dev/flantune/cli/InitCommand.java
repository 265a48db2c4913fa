package dev.flantune.cli;

import dev.flantune.checkpoint.DType;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Gpt2Config;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code flan-tune init}: writes a randomly initialized checkpoint in Hugging Face layout. */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description = "Write a randomly initialized checkpoint in Hugging Face layout.")
final class InitCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--arch", defaultValue = "gpt2", description = "Architecture (only gpt2).")
  String arch;

  @Option(
      names = "--tokenizer",
      required = true,
      description =
          "tokenizer.json (or a directory with tokenizer.json or vocab.json + merges.txt); sets vocab_size.")
  Path tokenizer;

  @Option(
      names = "--out",
      required = true,
      description = "Output directory (must be empty or absent).")
  Path out;

  @Option(names = "--layers", defaultValue = "2")
  int layers;

  @Option(names = "--heads", defaultValue = "4")
  int heads;

  @Option(names = "--embd", defaultValue = "128")
  int embd;

  @Option(names = "--positions", defaultValue = "256")
  int positions;

  @Option(names = "--seed", defaultValue = "0")
  long seed;

  @Option(names = "--dtype", defaultValue = "F32", description = "Storage dtype: F32, F16 or BF16.")
  DType dtype;

  @Override
  public Integer call() throws Exception {
    if (!arch.equals("gpt2"))
      throw FlanTuneException.badUsage("--arch " + arch + ": only gpt2 is supported");
    if (!dtype.isFloat()) throw FlanTuneException.badUsage("--dtype must be F32, F16 or BF16");
    if (Files.isDirectory(out)) {
      try (var files = Files.list(out)) {
        if (files.findAny().isPresent()) {
          throw FlanTuneException.badUsage(
              "--out " + out + " is not empty; choose a new directory");
        }
      }
    }
    int vocab;
    int eos;
    try (Tokenizer tok = Tokenizer.load(tokenizer)) {
      vocab = tok.vocabSize();
      eos = tok.eosId();
    }
    Gpt2Config config = Gpt2Config.of(vocab, positions, embd, layers, heads, Math.max(eos, 0));
    List<String> problems = config.problems();
    if (!problems.isEmpty()) throw FlanTuneException.badUsage(String.join("; ", problems));
    CausalLm model = CausalLm.random(config, seed); // generated straight into native memory
    model.save(out, dtype, tokenizer);
    long params = model.parameters().flat().length();
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s: gpt2 V=%d C=%d L=%d H=%d P=%d, %,d parameters, seed %d%n",
            out, vocab, embd, layers, heads, positions, params, seed);
    return 0;
  }
}
