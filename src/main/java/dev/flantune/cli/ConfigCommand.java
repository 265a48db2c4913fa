package dev.flantune.cli;

import dev.flantune.config.ConfigLoader;
import dev.flantune.config.ConfigTree;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code flan-tune config validate|show}: every config error at once, or the resolved config. */
@Command(
    name = "config",
    mixinStandardHelpOptions = true,
    description = "Validate or show a resolved config.",
    subcommands = {ConfigCommand.Validate.class, ConfigCommand.Show.class})
final class ConfigCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  abstract static class Base {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", required = true, description = "Run config (YAML).")
    Path config;

    @Parameters(paramLabel = "key=value", arity = "0..*", description = "Overrides.")
    List<String> overrides = new ArrayList<>();
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description = "Report every error in a config.")
  static final class Validate extends Base implements Callable<Integer> {
    @Override
    public Integer call() {
      ConfigLoader.load(config, overrides);
      spec.commandLine().getOut().println(config + ": ok");
      return 0;
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Print the config with defaults and overrides applied, paths made absolute.")
  static final class Show extends Base implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
      spec.commandLine().getOut().print(ConfigTree.yaml(ConfigLoader.load(config, overrides)));
      return 0;
    }
  }
}
