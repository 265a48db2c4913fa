package dev.flantune.cli;

import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Output directories of commands that write a checkpoint: never written over. */
final class OutputDirs {
  private OutputDirs() {}

  /** Refuses an {@code --out} that exists and holds anything (a missing or empty one is fine). */
  static void requireEmpty(Path out) throws IOException {
    if (!Files.isDirectory(out)) return;
    try (Stream<Path> files = Files.list(out)) {
      if (files.findAny().isPresent())
        throw FlanTuneException.badUsage("--out " + out + " is not empty; choose a new directory");
    }
  }
}
