package dev.flantune.cli;

import dev.flantune.checkpoint.DType;
import dev.flantune.model.CausalLm;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.family.Architecture;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
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

  @Option(
      names = "--arch",
      defaultValue = "gpt2",
      description = "Architecture: gpt2, llama, qwen2 or mistral.")
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

  @Option(names = "--kv-heads", description = "Key/value heads (Llama family; default: heads).")
  Integer kvHeads;

  @Option(names = "--inter", description = "MLP width (default 4·embd; Llama: ≈8/3·embd).")
  Integer inter;

  @Option(names = "--rope-theta", defaultValue = "10000", description = "RoPE base (Llama family).")
  double ropeTheta;

  @Option(
      names = "--tied",
      defaultValue = "true",
      arity = "1",
      description = "Tie the LM head to the embedding (Llama family may untie it).")
  boolean tied;

  @Option(names = "--seed", defaultValue = "0")
  long seed;

  @Option(names = "--dtype", defaultValue = "F32", description = "Storage dtype: F32, F16 or BF16.")
  DType dtype;

  @Override
  public Integer call() throws Exception {
    if (!dtype.isFloat()) throw FlanTuneException.badUsage("--dtype must be F32, F16 or BF16");
    OutputDirs.requireEmpty(out);
    int vocab;
    int eos;
    try (Tokenizer tok = Tokenizer.load(tokenizer)) {
      vocab = tok.vocabSize();
      eos = tok.eosId();
    }
    ModelConfig config =
        new Architecture(
                arch,
                vocab,
                positions,
                embd,
                layers,
                heads,
                kvHeads,
                inter,
                ropeTheta,
                tied,
                null,
                Math.max(eos, 0))
            .config();
    CausalLm model = CausalLm.random(config, seed); // generated straight into native memory
    model.save(out, dtype, tokenizer);
    long params = model.parameters().flat().length();
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s: %s V=%d C=%d L=%d H=%d KV=%d F=%d P=%d, %,d parameters, seed %d%n",
            out,
            arch,
            vocab,
            embd,
            layers,
            heads,
            config.nKvHead(),
            config.innerSize(),
            positions,
            params,
            seed);
    return 0;
  }
}
