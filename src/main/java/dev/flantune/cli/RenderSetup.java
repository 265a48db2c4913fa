package dev.flantune.cli;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;

/**
 * Where {@code render} gets its task collection, tokenizer and rendering choices: from command-line
 * options or from a run config.
 */
interface RenderSetup {
  TaskRegistry tasks();

  Path tokenizer();

  /** Rendering choices; the command line's seed and shot count are applied on top. */
  RenderOptions renderOptions();

  /** Sequences are truncated to this many tokens (the model's context). */
  int maxLength();

  /** Plain prompts, or through the tokenizer's chat template. */
  RunConfig.PromptFormat promptFormat();

  /**
   * The run config's task collection, tokenizer (its model's, or init's), options format and
   * length.
   */
  static RenderSetup fromConfig(Path config) {
    RunConfig cfg = ConfigLoader.load(config, java.util.List.of());
    if (cfg.data().objective() != RunConfig.Objective.INSTRUCTION) {
      throw FlanTuneException.badUsage(
          config
              + ": data.objective is "
              + cfg.data().objective().name().toLowerCase()
              + "; render shows instruction-tuning data (objective instruction)");
    }
    RenderOptions options = RenderOptions.forTraining(cfg, cfg.data().maxLength());
    Path tokenizer = cfg.model() != null ? cfg.model() : cfg.init().tokenizer();
    return of(
        cfg.data().tasks(), tokenizer, options, cfg.data().maxLength(), cfg.data().promptFormat());
  }

  static RenderSetup of(
      Path tasks,
      Path tokenizer,
      RenderOptions options,
      int maxLength,
      RunConfig.PromptFormat promptFormat) {
    TaskRegistry registry = TaskRegistry.load(tasks);
    return new RenderSetup() {
      public TaskRegistry tasks() {
        return registry;
      }

      public Path tokenizer() {
        return tokenizer;
      }

      public RenderOptions renderOptions() {
        return options;
      }

      public int maxLength() {
        return maxLength;
      }

      public RunConfig.PromptFormat promptFormat() {
        return promptFormat;
      }
    };
  }
}
