package dev.flantune.cli;

import dev.flantune.checkpoint.DType;
import dev.flantune.model.CausalLm;
import dev.flantune.train.RunDir;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune merge}: a base plus a LoRA adapter written as one full Hugging Face checkpoint
 * with W + s·B·A in every targeted projection (transposed for GPT-2's Conv1D), for tools that do
 * not read adapters. Written into a temporary directory and renamed, so a kill leaves no half
 * checkpoint.
 */
@Command(
    name = "merge",
    mixinStandardHelpOptions = true,
    description = "Merge a LoRA adapter into its base and write a full checkpoint.")
final class MergeCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--model", required = true, description = "The base checkpoint directory.")
  Path model;

  @Option(
      names = "--adapter",
      required = true,
      description = "The LoRA adapter directory (adapter_config.json, adapter_model.safetensors).")
  Path adapter;

  @Option(
      names = "--out",
      required = true,
      description = "Output directory (must be empty or absent).")
  Path out;

  @Option(names = "--dtype", defaultValue = "F32", description = "Storage dtype: F32, F16 or BF16.")
  DType dtype;

  @Override
  public Integer call() throws Exception {
    if (!dtype.isFloat()) throw FlanTuneException.badUsage("--dtype must be F32, F16 or BF16");
    OutputDirs.requireEmpty(out);
    ModelArgs args = ModelArgs.of(model, adapter);
    CausalLm merged = args.load();
    RunDir.writeAtomically(out, tmp -> merged.save(tmp, dtype, args.tokenizer()));
    spec.commandLine()
        .getOut()
        .printf(
            "wrote %s: %s + %s merged, %,d parameters, %s%n",
            out, args.model(), args.adapter(), merged.parameters().flat().length(), dtype);
    return 0;
  }
}
