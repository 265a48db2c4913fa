package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune config}: not built yet (issue #5). */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Validate or show a resolved config.")
final class ConfigCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'config' is not available in this build yet (issue #5)");
  }
}
