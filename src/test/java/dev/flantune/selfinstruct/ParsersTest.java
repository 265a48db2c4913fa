package dev.flantune.selfinstruct;

import static dev.flantune.selfinstruct.TextSampler.Finish.LENGTH;
import static dev.flantune.selfinstruct.TextSampler.Finish.STOP;
import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The parsers on written continuations, including the paper's own parser's failure modes. */
class ParsersTest {
  @Test
  void aCleanListGivesOneInstructionPerItemTheFirstUnnumbered() {
    String text =
        " Write a haiku about autumn.\n"
            + "10. List three uses of salt.\n"
            + "11. Explain why the sky is blue.";
    assertEquals(
        List.of(
            "Write a haiku about autumn.",
            "List three uses of salt.",
            "Explain why the sky is blue."),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void numberingThatChangesStyleMidListStillSplits() {
    // The paper splits on "\n<digits>. " only: "11)" and "12:" would be glued onto item 10.
    String text =
        "Sort the numbers.\n"
            + "10. Name a color.\n"
            + "11) Translate the word into German.\n"
            + "12: Give an antonym of the word.\n"
            + "13 Summarize the paragraph.";
    assertEquals(
        List.of(
            "Sort the numbers.",
            "Name a color.",
            "Translate the word into German.",
            "Give an antonym of the word.",
            "Summarize the paragraph."),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void numberingThatRestartsOrJumpsStillStartsItems() {
    String text = "Sort the numbers.\n10. Name a color.\n3. Write a limerick about a cat.";
    assertEquals(
        List.of("Sort the numbers.", "Name a color.", "Write a limerick about a cat."),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void aLineThatIsNotAnItemContinuesTheOneAbove() {
    String text =
        "Write a story about\n"
            + "a dog that learns to fly.\n"
            + "10. Tell me the year\n"
            + "2019 was a leap year or not.";
    // "2019 was…" is not the expected number 11, so it continues item 10
    assertEquals(
        List.of(
            "Write a story about a dog that learns to fly.",
            "Tell me the year 2019 was a leap year or not."),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void numberingThatStopsLeavesOneSentencePerLine() {
    // A small model drops the numbers: a capitalized line after a finished sentence is a new item.
    String text =
        "\nName the capital of Peru.\nIt is a long river.\n\"Quoted line\" goes on\nand ends here.";
    // A line opening with a quote is not capitalized: it continues the item above.
    assertEquals(
        List.of(
            "Name the capital of Peru.",
            "It is a long river. \"Quoted line\" goes on and ends here."),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void aTruncatedLastItemIsDroppedOnlyWhenTheTokenLimitCutIt() {
    String text = "Name a fruit.\n10. Describe the water cycle in";
    assertEquals(List.of("Name a fruit."), Parsers.instructions(text, 9, LENGTH));
    assertEquals(
        List.of("Name a fruit.", "Describe the water cycle in"),
        Parsers.instructions(text, 9, STOP));
  }

  @Test
  void aBlankLineEndsTheListAndEmptyItemsVanish() {
    String text = "name a fruit.\n10. \n11. Give two rhymes for cat.\n\n12. Not part of the list.";
    assertEquals(
        List.of("Name a fruit.", "Give two rhymes for cat."),
        Parsers.instructions(text, 9, LENGTH));
  }

  @Test
  void classificationAnswers() {
    assertEquals(true, Parsers.classification(" Yes"));
    assertEquals(false, Parsers.classification(" no."));
    assertNull(Parsers.classification(" Maybe"));
    assertNull(Parsers.classification(""));
  }

  @Test
  void inputFirstWithExamplesInputsAndOutputs() {
    String text =
        "Example 1\nInput: 3, 1, 2\nOutput: 1, 2, 3\nExample 2\nInput: 9 8\nOutput: 8 9\n";
    assertEquals(
        List.of(
            new Parsers.Parsed("3, 1, 2", "1, 2, 3", false),
            new Parsers.Parsed("9 8", "8 9", false)),
        Parsers.inputFirst(text, STOP));
  }

  @Test
  void inputFirstWithoutInputAndWithASecondInputInsideTheOutput() {
    assertEquals(
        List.of(new Parsers.Parsed("", "banana, lemon", false)),
        Parsers.inputFirst("Output: banana, lemon\n", STOP));
    assertEquals(
        List.of(new Parsers.Parsed("", "just text", false)), Parsers.inputFirst("just text", STOP));
    assertEquals(
        List.of(new Parsers.Parsed("a", "b", false)),
        Parsers.inputFirst("Input: a\nOutput: b\nInput: c\nOutput: d", STOP));
  }

  @Test
  void inputFirstDropsACutLastExampleButFlagsALoneOne() {
    String two = "Example 1\nInput: a\nOutput: b\nExample 2\nInput: c\nOutput: d d d";
    assertEquals(List.of(new Parsers.Parsed("a", "b", false)), Parsers.inputFirst(two, LENGTH));
    // A lone cut block keeps its complete lines; with only the cut line left, nothing: over-long.
    assertEquals(
        List.of(new Parsers.Parsed("c", "", true)),
        Parsers.inputFirst("Input: c\nOutput: d d d", LENGTH));
    assertEquals(
        List.of(new Parsers.Parsed("", "line one\nline two", false)),
        Parsers.inputFirst("Output: line one\nline two\nline thr", LENGTH));
  }

  @Test
  void outputFirstGivesLabelThenInput() {
    String text =
        " Positive\nInput: What a lovely day.\nClass label: Negative\nInput: I hate rain.\n";
    assertEquals(
        List.of(
            new Parsers.Parsed("What a lovely day.", "Positive", false),
            new Parsers.Parsed("I hate rain.", "Negative", false)),
        Parsers.outputFirst(text, STOP));
    assertEquals(
        Parsers.outputFirst(text, STOP), Parsers.outputFirst(text + "Class label: Neu", LENGTH));
  }

  @Test
  void thePromptsAreThePapersNumberedList() {
    String p = Prompts.instructionGeneration(List.of("Sort  the\nlist:", "Name a fruit."));
    assertEquals("Come up with a series of tasks:\n1. Sort the list\n2. Name a fruit.\n3.", p);
    assertTrue(Prompts.outputFirst("Is it odd?").endsWith("Task: Is it odd?\nClass label:"));
    assertTrue(Prompts.inputFirst("Sort it.").endsWith("\n\nTask: Sort it.\n"));
    assertTrue(
        Prompts.classification("Sort it.").endsWith("Task: Sort it.\nIs it classification?"));
  }
}
