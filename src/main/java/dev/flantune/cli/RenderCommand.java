package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune render}: not built yet (issue # prompts, targets, ids and loss masks.:3). */
@Command(name = "render", mixinStandardHelpOptions = true, description = "Show exactly what the model sees")
final class RenderCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'render' is not available in this build yet (issue # prompts, targets, ids and loss masks.:3)");
  }
}
