/**
 * The command line: {@link dev.flantune.cli.FlanTune} (root command, exit codes, one-line errors)
 * and one class per subcommand. The only package that prints for the user or decides an exit code;
 * only {@code main} exits.
 */
package dev.flantune.cli;
