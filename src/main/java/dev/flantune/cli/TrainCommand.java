package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune train}: not built yet (issue #5). */
@Command(name = "train", mixinStandardHelpOptions = true, description = "Fine-tune or pretrain a model from a YAML config.")
final class TrainCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'train' is not available in this build yet (issue #5)");
  }
}
