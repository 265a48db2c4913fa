package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every FloatVector kernel in the main sources uses the preferred species only. A second
 * FloatVector shape in the process (a 256-bit one beside the 512-bit preferred one) pollutes the
 * JIT's shared Vector API call sites: kernels compiled after it fall back to boxed vectors, which
 * made evaluation after training 4–7× slower. A timing test would be flaky; this rule is not.
 */
class VectorSpeciesRuleTest {
  private static final Pattern FLOAT_SPECIES =
      Pattern.compile("FloatVector\\s*\\.\\s*(SPECIES_\\w+|species\\s*\\()");

  @Test
  void onlyThePreferredFloatSpeciesIsUsed() throws IOException {
    List<String> offenders = new ArrayList<>();
    int uses = 0;
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
        List<String> lines = Files.readAllLines(f);
        for (int i = 0; i < lines.size(); i++) {
          Matcher m = FLOAT_SPECIES.matcher(lines.get(i));
          while (m.find()) {
            uses++;
            if (!m.group(1).equals("SPECIES_PREFERRED")) offenders.add(f + ":" + (i + 1));
          }
        }
      }
    }
    assertTrue(uses > 0, "no FloatVector species found: has the source layout moved?");
    assertEquals(List.of(), offenders, "non-preferred FloatVector species");
  }
}
