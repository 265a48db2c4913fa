package dev.flantune.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flantune.tasks.Fixtures;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import dev.flantune.tokenizer.Tokenizer;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Throughput of reading + rendering + tokenizing 100k NLI-style examples (~60 tokens each), one
 * string at a time and batched. A benchmark, not a timed test: it prints and asserts only counts.
 * Run: {@code mvn -o -q -B test -Pall-tests -Dtest=RenderThroughputBench}; output in
 * target/surefire-reports/dev.flantune.data.RenderThroughputBench-output.txt.
 */
@Tag("slow")
class RenderThroughputBench {
  private static final int N = 100_000;
  private static final int CHUNK = 2048;

  @Test
  void renderAndTokenize100k(@TempDir Path root) throws Exception {
    Path dir = Files.createDirectories(root.resolve("bench_nli"));
    Files.writeString(
        dir.resolve("task.yaml"),
        """
        name: bench_nli
        cluster: nli
        kind: classification
        metric: accuracy
        options: ["yes", "it is not possible to tell", "no"]
        data: {train: train.jsonl}
        source: synthetic
        license: CC0-1.0
        templates:
          - {input: "Premise: {premise}\\nHypothesis: {hypothesis}\\nDoes the premise entail the hypothesis?\\n\\n{options_}", target: "{answer}"}
          - {input: "{premise}\\n\\nBased on the paragraph above can we conclude that \\"{hypothesis}\\"?\\n\\n{options_}", target: "{answer}"}
          - {input: "Read the text and decide: {premise} Does it follow that {hypothesis}?\\n{options_}", target: "The answer is {answer}."}
        """);
    String[] words =
        "the a man woman dog child city river plays reads runs quickly under over near big small red old new house car tree book music guitar park"
            .split(" ");
    String[] answers = {"yes", "it is not possible to tell", "no"};
    SplittableRandom rng = new SplittableRandom(1);
    try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("train.jsonl"))) {
      for (int i = 0; i < N; i++) {
        w.write(
            "{\"premise\": \""
                + sentence(rng, words, 12 + rng.nextInt(10))
                + "\", \"hypothesis\": \""
                + sentence(rng, words, 5 + rng.nextInt(5))
                + "\", \"answer\": \""
                + answers[rng.nextInt(3)]
                + "\"}\n");
      }
    }
    Task task = TaskRegistry.load(root).task("bench_nli");
    try (Tokenizer tok = Tokenizer.load(Fixtures.GPT2)) {
      ExampleTokenizer et = new ExampleTokenizer(tok, 1024);
      Renderer renderer = new Renderer(RenderOptions.DEFAULTS);
      for (int round = 0; round < 2; round++) { // round 0 warms up the JIT and the page cache
        long[] tokens = {0};
        long cpu0 = processCpuNanos();
        long t0 = System.nanoTime();
        List<Rendered> chunk = new ArrayList<>(CHUNK);
        int[] count = {0};
        Truncation tr = new Truncation();
        task.split(Task.Split.TRAIN)
            .forEach(
                e -> {
                  chunk.add(renderer.render(task, e));
                  count[0]++;
                  if (chunk.size() == CHUNK) {
                    for (var x : et.tokenizeAll(chunk, tr)) tokens[0] += x.orElseThrow().length();
                    chunk.clear();
                  }
                });
        for (var x : et.tokenizeAll(chunk, tr)) tokens[0] += x.orElseThrow().length();
        double s = (System.nanoTime() - t0) / 1e9;
        double cpu = (processCpuNanos() - cpu0) / 1e9;
        assertEquals(N, count[0]);
        System.out.printf(
            "round %d batched: %d examples in %.2f s = %.0f examples/s (%.0f tokens/s, %.1f tokens/example);"
                + " %.2f CPU-s = %.0f examples per CPU-second; load average %.1f on %d cores%n",
            round,
            N,
            s,
            N / s,
            tokens[0] / s,
            tokens[0] / (double) N,
            cpu,
            N / cpu,
            java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                .getSystemLoadAverage(),
            Runtime.getRuntime().availableProcessors());
      }
      long t0 = System.nanoTime();
      int[] count = {0};
      Truncation tr = new Truncation();
      task.split(Task.Split.TRAIN)
          .forEach(
              e -> {
                et.tokenize(renderer.render(task, e), tr).orElseThrow();
                count[0]++;
              });
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf(
          "one by one: %d examples in %.2f s = %.0f examples/s%n", count[0], s, count[0] / s);
      t0 = System.nanoTime();
      count[0] = 0;
      task.split(Task.Split.TRAIN)
          .forEach(
              e -> {
                renderer.render(task, e);
                count[0]++;
              });
      s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("read + render only: %.0f examples/s%n", count[0] / s);
    }
  }

  /** CPU time of this process (all threads, including the tokenizer's native ones). */
  private static long processCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : 0;
  }

  private static String sentence(SplittableRandom rng, String[] words, int n) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++)
      sb.append(i == 0 ? "" : " ").append(words[rng.nextInt(words.length)]);
    return sb.append('.').toString();
  }
}
