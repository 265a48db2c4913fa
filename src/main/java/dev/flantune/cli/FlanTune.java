package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code flan-tune} command line. Exit codes: 0 ok; 1 the run failed; 2 bad usage or config; 3
 * bad input file. Expected failures print one line; the stack trace only with {@code -x}.
 */
@Command(
    name = "flan-tune",
    mixinStandardHelpOptions = true,
    versionProvider = FlanTune.Version.class,
    description =
        "Instruction tuning (FLAN-style) for causal language models, with held-out evaluation.",
    subcommands = {
      TrainCommand.class,
      EvalCommand.class,
      RenderCommand.class,
      TasksCommand.class,
      ScoreCommand.class,
      GenerateCommand.class,
      SelfInstructCommand.class,
      InitCommand.class,
      MergeCommand.class,
      ConfigCommand.class,
      BenchCommand.class,
      StudyCommand.class,
      CommandLine.HelpCommand.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:ok",
      "1:the run failed",
      "2:bad usage or config",
      "3:bad input file (checkpoint, data, template)"
    })
public final class FlanTune implements Callable<Integer> {
  public static final int OK = 0;

  @Option(
      names = {"-x", "--stacktrace"},
      scope = CommandLine.ScopeType.INHERIT,
      description = "Print the full stack trace of an error.")
  boolean stacktrace;

  @Override
  public Integer call() {
    CommandLine.usage(this, System.err);
    return FlanTuneException.Kind.BAD_USAGE.exitCode;
  }

  public static void main(String[] args) {
    java.io.PrintStream stdout = dev.flantune.util.QuietStdout.install();
    System.exit(run(args, utf8(stdout), utf8(System.err)));
  }

  /** UTF-8 whatever the locale: task text and render's loss markers are not ASCII. */
  private static PrintWriter utf8(java.io.PrintStream stream) {
    return new PrintWriter(
        new java.io.OutputStreamWriter(stream, java.nio.charset.StandardCharsets.UTF_8), true);
  }

  /** Runs the CLI and returns the exit code (tests call this; only {@link #main} exits). */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    try {
      dev.flantune.model.Engine.choose(System.getenv(dev.flantune.model.Engine.ENV));
    } catch (FlanTuneException e) {
      err.println("flan-tune: error: " + e.getMessage());
      err.flush();
      return e.kind().exitCode;
    }
    try {
      return commandLine(out, err).execute(args);
    } catch (OutOfMemoryError e) { // picocli handles exceptions only; errors reach here
      if (Arrays.asList(args).contains("-x") || Arrays.asList(args).contains("--stacktrace"))
        e.printStackTrace(err);
      err.println("flan-tune: error: " + messageOf(e));
      return FlanTuneException.Kind.RUN_FAILED.exitCode;
    } finally {
      out.flush(); // print() does not auto-flush, and main exits right after
      err.flush();
    }
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new FlanTune());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(FlanTune::exitCodeOf);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          boolean trace =
              parseResult.hasMatchedOption("-x")
                  || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("-x"));
          for (var sub = parseResult; sub != null; sub = sub.subcommand())
            trace |= sub.hasMatchedOption("-x");
          if (trace) ex.printStackTrace(cmd.getErr());
          cmd.getErr().println("flan-tune: error: " + messageOf(ex));
          cmd.getErr().flush();
          return exitCodeOf(ex);
        });
    cl.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine cmd = ex.getCommandLine();
          cmd.getErr().println("flan-tune: " + ex.getMessage());
          cmd.getErr()
              .println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage.");
          cmd.getErr().flush();
          return FlanTuneException.Kind.BAD_USAGE.exitCode;
        });
    return cl;
  }

  static int exitCodeOf(Throwable ex) {
    if (ex instanceof FlanTuneException f) return f.kind().exitCode;
    if (ex instanceof CommandLine.ParameterException)
      return FlanTuneException.Kind.BAD_USAGE.exitCode;
    return FlanTuneException.Kind.RUN_FAILED.exitCode;
  }

  static String messageOf(Throwable ex) {
    if (ex instanceof FlanTuneException) return ex.getMessage();
    if (ex instanceof OutOfMemoryError) {
      String m = ex.getMessage() == null ? "" : ex.getMessage().lines().findFirst().orElse("");
      if (ex.getCause() != null && ex.getCause().getMessage() != null)
        m = ex.getCause().getMessage();
      return "out of memory ("
          + m
          + "); lower the batch size or data.max_length, or raise FLAN_TUNE_OFFHEAP (ND4J's"
          + " off-heap limit) or FLAN_TUNE_HEAP";
    }
    String m = ex.getMessage();
    return ex.getClass().getSimpleName()
        + (m == null ? "" : ": " + m.lines().findFirst().orElse(""))
        + " (rerun with -x for the stack trace)";
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = FlanTune.class.getPackage().getImplementationVersion();
      return new String[] {"flan-tune " + (v == null ? "dev" : v)};
    }
  }
}
