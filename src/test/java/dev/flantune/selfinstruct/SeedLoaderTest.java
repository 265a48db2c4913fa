package dev.flantune.selfinstruct;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.util.FlanTuneException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeedLoaderTest {
  @TempDir Path dir;

  @Test
  void readsTheSelfInstructSeedFormat() throws Exception {
    Path f = dir.resolve("seeds.jsonl");
    Files.writeString(
        f,
        """
        {"id": "seed_task_0", "name": "breakfast", "instruction": "Suggest a breakfast.", "instances": [{"input": "", "output": "Oatmeal."}], "is_classification": false}

        {"instruction": "Is the review positive?", "instances": [{"input": "Great!", "output": "Yes"}, {"output": "No"}], "is_classification": true}
        """);
    List<SeedTask> seeds = SeedLoader.load(f);
    assertEquals(
        List.of(
            new SeedTask(
                "Suggest a breakfast.", false, List.of(new SeedTask.Instance("", "Oatmeal."))),
            new SeedTask(
                "Is the review positive?",
                true,
                List.of(new SeedTask.Instance("Great!", "Yes"), new SeedTask.Instance("", "No")))),
        seeds);
  }

  static void assertBadLine(Path f, String content, String... fragments) throws Exception {
    Files.writeString(f, content);
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> SeedLoader.load(f));
    assertEquals(3, e.kind().exitCode);
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
    for (String s : fragments) assertTrue(e.getMessage().contains(s), e.getMessage());
  }

  @Test
  void malformedSeedFilesNameFileLineAndField() throws Exception {
    Path f = dir.resolve("bad.jsonl");
    String ok =
        "{\"instruction\": \"Do it now please.\", \"instances\": [{\"input\": \"\", \"output\": \"ok\"}]}\n";
    assertBadLine(f, ok + "{not json\n", f + ":2:", "not valid JSON");
    assertBadLine(f, ok + ok + "{\"instances\": []}\n", f + ":3:", "'instruction'");
    assertBadLine(f, "{\"instruction\": \"x\"}\n", f + ":1:", "'instances'");
    assertBadLine(
        f,
        "{\"instruction\": \"x\", \"instances\": [{\"input\": \"a\"}]}\n",
        f + ":1:",
        "instances[0]",
        "output");
    assertBadLine(
        f,
        "{\"instruction\": \"x\", \"instances\": [{\"output\": \"a\"}], \"is_classification\": \"no\"}\n",
        f + ":1:",
        "is_classification");
    assertBadLine(f, "\n\n", f.toString(), "no seed tasks");
    assertBadLine(f, "[1, 2]\n", f + ":1:", "one JSON object");
  }

  @Test
  void aTaskCollectionGivesOneSeedPerTaskFromItsMostInstructionLikeTemplate() {
    List<SeedTask> seeds = SeedLoader.load(Path.of("data/tasks"));
    assertEquals(30, seeds.size());
    // bsd_trivia_qa's longest-literal template is "Here is a quiz question on the topic of …"
    List<SeedTask> trivia =
        seeds.stream().filter(s -> s.instruction().startsWith("Here is a quiz question")).toList();
    assertEquals(1, trivia.size());
    assertEquals(1, trivia.get(0).instances().size());
    assertEquals("", trivia.get(0).instances().get(0).input());
    assertFalse(trivia.get(0).isClassification());
    // the shortest of the first 20 renderings: no seed is a whole passage
    assertTrue(seeds.stream().allMatch(s -> s.instruction().length() < 600));
    assertTrue(seeds.stream().anyMatch(SeedTask::isClassification));
  }
}
