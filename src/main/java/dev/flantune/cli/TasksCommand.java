package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code flan-tune tasks}: not built yet (issue #3). */
@Command(name = "tasks", mixinStandardHelpOptions = true, description = "List tasks with cluster, kind, metric, templates, examples, source and license.")
final class TasksCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    throw FlanTuneException.runFailed("'tasks' is not available in this build yet (issue #3)");
  }
}
