package dev.flantune.cli;

import dev.flantune.study.Study;
import dev.flantune.train.Progress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune study}: FLAN's two ablations as commands. Each run is a {@code train} of the
 * config with overrides; a study run again reuses finished runs and resumes an interrupted one.
 */
@Command(
    name = "study",
    mixinStandardHelpOptions = true,
    description = "FLAN's ablations: leave-one-cluster-out, and held-out score vs cluster count.",
    subcommands = {StudyCommand.HeldOut.class, StudyCommand.Clusters.class})
final class StudyCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return dev.flantune.util.FlanTuneException.Kind.BAD_USAGE.exitCode;
  }

  abstract static class Common implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--config",
        required = true,
        description = "Run config (instruction objective, with a base model) for every run.")
    Path config;

    @Option(
        names = "--out",
        description = "Study directory: one run directory per run, and study.{json,md,png}.")
    Path out;

    @Parameters(
        paramLabel = "key=value",
        description =
            "Config overrides for every run, e.g. model=path/to/base train.steps=1000 (the"
                + " study's own data.held_out and data.weights win).")
    List<String> overrides = new java.util.ArrayList<>();

    abstract Path defaultOut();

    abstract List<Study.Point> run(Study s) throws Exception;

    @Override
    public Integer call() throws Exception {
      var err = spec.commandLine().getErr();
      AtomicBoolean stop = new AtomicBoolean();
      TrainCommand.installInterruptHandler(stop, err);
      Path dir = out != null ? out : defaultOut();
      for (String o : overrides) err.println("override: " + o);
      Study study =
          new Study(config, overrides, dir, new Progress(err, System.console() != null, 50), stop);
      List<Study.Point> points = run(study);
      spec.commandLine()
          .getOut()
          .println(
              java.nio.file.Files.readString(dir.resolve("study.md"))
                  .lines()
                  .filter(l -> l.startsWith("|"))
                  .reduce("", (a, b) -> a + b + "\n"));
      err.println(
          "study: "
              + points.size()
              + " runs; report in "
              + dir
              + " (study.md, study.json, study.png)");
      return 0;
    }
  }

  @Command(
      name = "held-out",
      mixinStandardHelpOptions = true,
      description =
          "Leave one cluster out: for each cluster, tune with it (and its overlaps) held out, then"
              + " evaluate it, base vs tuned.")
  static final class HeldOut extends Common {
    @Option(
        names = "--clusters",
        required = true,
        split = ",",
        paramLabel = "CLUSTER",
        description = "Clusters to hold out, one run each.")
    List<String> clusters;

    @Override
    Path defaultOut() {
      return Path.of("runs/study-held-out");
    }

    @Override
    List<Study.Point> run(Study s) throws Exception {
      return s.heldOut(clusters.stream().map(String::strip).toList());
    }
  }

  @Command(
      name = "clusters",
      mixinStandardHelpOptions = true,
      description =
          "Held-out score vs number of training clusters (FLAN figure 6): hold out a fixed set,"
              + " tune on 1, 2, 4, ... clusters added in a seeded order.")
  static final class Clusters extends Common {
    @Option(
        names = "--held-out",
        required = true,
        split = ",",
        paramLabel = "CLUSTER",
        description = "The fixed held-out clusters, evaluated after every run.")
    List<String> heldOut;

    @Option(
        names = "--counts",
        required = true,
        split = ",",
        paramLabel = "N",
        description = "Training cluster counts, e.g. 1,2,4,8.")
    List<Integer> counts;

    @Option(
        names = "--seed",
        defaultValue = "0",
        description = "Seed of the order in which clusters are added (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    Path defaultOut() {
      return Path.of("runs/study-clusters");
    }

    @Override
    List<Study.Point> run(Study s) throws Exception {
      return s.clusterCount(heldOut.stream().map(String::strip).toList(), counts, seed);
    }
  }
}
