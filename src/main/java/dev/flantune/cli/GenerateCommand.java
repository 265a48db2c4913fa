package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune generate}: not built yet (issue #6). */
@Command(name = "generate", mixinStandardHelpOptions = true, description = "Generate a continuation (greedy or sampled) with a KV cache.")
final class GenerateCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'generate' is not available in this build yet (issue #6)");
  }
}
