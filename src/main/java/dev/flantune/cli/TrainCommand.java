package dev.flantune.cli;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.RunConfig;
import dev.flantune.train.Progress;
import dev.flantune.train.TrainRecipe;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flan-tune train}: fine-tune (or pretrain) from a YAML config. */
@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = "Fine-tune or pretrain a model from a YAML config; Ctrl-C checkpoints and stops.")
final class TrainCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", required = true, description = "Run config (YAML).")
  Path config;

  @Parameters(
      paramLabel = "key=value",
      arity = "0..*",
      description = "Config overrides, e.g. train.lr=1e-4 train.steps=200.")
  List<String> overrides = new ArrayList<>();

  @Option(names = "--out", description = "Run directory (default: the config's output).")
  Path out;

  @Option(
      names = "--resume",
      description = "Continue the run in the output directory from its newest checkpoint.")
  boolean resume;

  @Override
  public Integer call() throws Exception {
    RunConfig cfg = ConfigLoader.load(config, overrides);
    Path outDir = out != null ? out : cfg.output();
    var err = spec.commandLine().getErr();
    for (String o : overrides) err.println("override: " + o);
    AtomicBoolean stop = new AtomicBoolean();
    installInterruptHandler(stop, err);
    Progress progress = new Progress(err, System.console() != null, cfg.train().logEvery());
    String yaml = dev.flantune.config.ConfigTree.yaml(cfg);
    TrainRecipe.Summary s = new TrainRecipe(cfg, yaml, progress, stop).run(outDir, resume);
    if (s.outcome().stopped()) {
      err.println(
          "stopped at step "
              + s.outcome().stepsDone()
              + "; continue with: flan-tune train --config "
              + config
              + (out != null ? " --out " + out : "")
              + " --resume");
      return FlanTuneException.Kind.RUN_FAILED.exitCode;
    }
    if (s.heldOut() != null) {
      spec.commandLine().getOut().print(dev.flantune.report.SummaryTable.render(s.heldOut()));
      err.println(
          "held-out evaluation: "
              + s.runDir().resolve("eval")
              + " (report.md, report.html, report.json, predictions.jsonl)");
    }
    spec.commandLine().getOut().println("run directory: " + s.runDir());
    return 0;
  }

  /**
   * First Ctrl-C (SIGINT) or SIGTERM: finish the step, write a checkpoint, stop. Second: the
   * default (exit now; the last complete checkpoint stays intact). SIGTERM matters for background
   * runs, where the shell starts the JVM with SIGINT ignored.
   */
  static void installInterruptHandler(AtomicBoolean stop, java.io.PrintWriter err) {
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name),
            sig -> {
              err.println(
                  "\nSIG"
                      + name
                      + ": finishing this step and writing a checkpoint (again to abort)");
              err.flush();
              stop.set(true);
              sun.misc.Signal.handle(new sun.misc.Signal(name), sun.misc.SignalHandler.SIG_DFL);
            });
      } catch (IllegalArgumentException e) {
        // the signal is ignored or reserved here: it then cannot interrupt the run at all
      }
    }
  }
}
