package dev.flantune.selfinstruct;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every instruction and instance filter on written cases, and the reason each one counts. */
class FiltersTest {
  @Test
  void lengthBoundsInWords() {
    InstructionFilter f = new InstructionFilter();
    assertEquals(Rejection.TOO_SHORT, f.check("Sort the list."));
    assertNull(f.check("Sort the list please."));
    assertNull(f.check("word ".repeat(150)));
    assertEquals(Rejection.TOO_LONG, f.check("word ".repeat(151)));
    assertEquals(Rejection.TOO_SHORT, f.check("   "));
  }

  @Test
  void firstCharacterPunctuationOrNonAscii() {
    InstructionFilter f = new InstructionFilter();
    assertEquals(Rejection.STARTS_WITH_PUNCTUATION, f.check("- Write a poem about rain."));
    assertEquals(Rejection.STARTS_WITH_PUNCTUATION, f.check("\"Write a poem about rain.\""));
    assertEquals(Rejection.STARTS_WITH_NON_ENGLISH, f.check("Écris un poème sur la pluie."));
    assertEquals(Rejection.STARTS_WITH_NON_ENGLISH, f.check("写一首关于 雨 的 诗"));
    assertNull(f.check("1 way to write a poem about rain."));
  }

  @Test
  void blacklistedKeywordsAreWholeWordsAnyCase() {
    InstructionFilter f = new InstructionFilter();
    for (String s :
        List.of(
            "Describe the IMAGE in one sentence.",
            "Draw a cat for me now.",
            "Plot the data as a bar chart.",
            "Please go to the website and summarize it.",
            "Summarize the video in two lines.",
            "Transcribe the audio clip below.",
            "Find the shortest path on the map.",
            "Write a program that sorts numbers."))
      assertEquals(Rejection.BLACKLISTED_KEYWORD, f.check(s), s);
    // Words that only contain a blacklisted one pass: "mapping", "profile", "plotting".
    assertNull(f.check("Explain the mapping between keys and values."));
    assertNull(f.check("Write a short profile of a scientist."));
  }

  @Test
  void duplicatesExactOrWhitespaceNormalized() {
    InstructionFilter f = new InstructionFilter();
    f.add("Name three  fruits that are red.");
    assertEquals(Rejection.DUPLICATE_INSTRUCTION, f.check("Name three fruits that are red."));
    assertEquals(Rejection.DUPLICATE_INSTRUCTION, f.check("  Name three\nfruits\tthat are red. "));
    assertNull(f.check("Name three fruits that are blue."));
  }

  @Test
  void instancesEmptyLongRepeatedDuplicatedOrConflicting() {
    List<Rejection> why = new ArrayList<>();
    List<SeedTask.Instance> kept =
        InstanceFilter.filter(
            List.of(
                new Parsers.Parsed("a", "", false),
                new Parsers.Parsed("b", "x".repeat(InstanceFilter.MAX_OUTPUT_CHARS + 1), false),
                new Parsers.Parsed("c", "cut off", true),
                new Parsers.Parsed("same  text", "same text", false),
                new Parsers.Parsed("d", "1", false),
                new Parsers.Parsed("d", "1", false),
                new Parsers.Parsed("e", "yes", false),
                new Parsers.Parsed("e", "no", false),
                new Parsers.Parsed("", "apple", false),
                new Parsers.Parsed("", "pear", false)),
            why::add);
    assertEquals(
        List.of(
            new SeedTask.Instance("d", "1"),
            new SeedTask.Instance("", "apple"),
            new SeedTask.Instance("", "pear")),
        kept);
    assertEquals(
        List.of(
            Rejection.EMPTY_OUTPUT,
            Rejection.OUTPUT_TOO_LONG,
            Rejection.OUTPUT_TOO_LONG,
            Rejection.OUTPUT_REPEATS_INPUT,
            Rejection.DUPLICATE_INSTANCE,
            Rejection.SAME_INPUT_DIFFERENT_OUTPUTS,
            Rejection.SAME_INPUT_DIFFERENT_OUTPUTS),
        why);
  }
}
