package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune bench}: not built yet (issue #8). */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time training steps on random data.")
final class BenchCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'bench' is not available in this build yet (issue #8)");
  }
}
