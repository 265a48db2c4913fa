package dev.flantune.cli;

import dev.flantune.model.CausalLm;
import dev.flantune.model.lora.AdapterFiles;
import dev.flantune.model.lora.LoraAdapter;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code --model [--adapter]} names: a checkpoint, or a base with a LoRA adapter, merged in
 * memory for inference (W + s·B·A: the same scores as a checkpoint written by {@code merge}). A
 * LoRA run's final/ given as {@code --model} alone finds its base through adapter_config.json's
 * base_model_name_or_path.
 */
record ModelArgs(Path model, Path adapter) {
  /** Resolves the options as given; a directory holding an adapter may stand for its base. */
  static ModelArgs of(Path model, Path adapter) {
    if (adapter != null && AdapterFiles.isAdapter(model))
      throw FlanTuneException.badUsage(
          "--model " + model + " is an adapter; pass the base model with --model");
    if (adapter != null || !AdapterFiles.isAdapter(model)) return new ModelArgs(model, adapter);
    String base = AdapterFiles.baseModelOf(model);
    Path basePath = base == null ? null : model.resolve(base).normalize();
    if (basePath == null || !Files.isDirectory(basePath))
      throw FlanTuneException.badUsage(
          model
              + " holds a LoRA adapter whose base ("
              + base
              + ") is not a local directory; pass --model BASE --adapter "
              + model);
    return new ModelArgs(basePath, model);
  }

  /** The model to run: the checkpoint, or the base with the adapter merged. */
  CausalLm load() {
    CausalLm lm = CausalLm.load(model);
    if (adapter == null) return lm;
    LoraAdapter a = AdapterFiles.load(adapter, lm);
    a.mergeInto(lm);
    return lm;
  }

  /** Where the tokenizer is: beside the adapter when it has one (a run's final/), else the base. */
  Path tokenizer() {
    return adapter != null && Files.isRegularFile(adapter.resolve("tokenizer.json"))
        ? adapter
        : model;
  }

  /** The directory that identifies the tuned model in reports (the adapter when there is one). */
  Path identity() {
    return adapter != null ? adapter : model;
  }
}
