package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune eval}: not built yet (issue #6). */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate held-out task clusters zero-/few-shot, base vs tuned.")
final class EvalCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'eval' is not available in this build yet (issue #6)");
  }
}
