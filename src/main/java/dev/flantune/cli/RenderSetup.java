package dev.flantune.cli;

import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;

/**
 * Where {@code render} gets its task collection, tokenizer and rendering choices: from command-line
 * options today, from a run config once config files exist. The config issue only has to provide
 * {@link #fromConfig}; the command does not change.
 */
interface RenderSetup {
  TaskRegistry tasks();

  Path tokenizer();

  /** Rendering choices; the command line's seed and shot count are applied on top. */
  RenderOptions renderOptions();

  /** Sequences are truncated to this many tokens (the model's context). */
  int maxLength();

  static RenderSetup fromConfig(Path config) {
    throw FlanTuneException.badUsage("render --config " + config + ": config files are not supported in this build yet; "
        + "use --tasks DIR --tokenizer FILE");
  }

  static RenderSetup of(Path tasks, Path tokenizer, RenderOptions options, int maxLength) {
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
    };
  }
}
