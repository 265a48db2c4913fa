package dev.flantune.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.CausalLm;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * {@code bench --mode generate}: greedy generation of the same prompts one at a time ({@link
 * Generator#generate(int[], Generator.Settings)}) and batched ({@link Generator#generate(List,
 * int)}), alternating A B A B in one process, every row running to the token limit (no stop token),
 * so both sides do the same work. Prompt i has {@link #promptLength} tokens, the formula
 * scripts/reference/bench_torch.py uses too.
 */
public final class GenerateBench {
  private GenerateBench() {}

  public record Settings(int prompts, int longestPrompt, int newTokens, int batch, int rounds) {}

  /** Prompt lengths spread over [longest/2, longest] by a fixed stride. */
  public static int promptLength(int i, int longest) {
    int lo = Math.max(1, longest / 2);
    return lo + (i * 37) % (longest - lo + 1);
  }

  /** Runs the rounds after one untimed warm-up of each side; the result as JSON. */
  public static ObjectNode run(CausalLm model, Settings s) {
    int vocab = model.config().vocabSize();
    SplittableRandom rng = new SplittableRandom(1);
    List<int[]> prompts = new ArrayList<>();
    for (int i = 0; i < s.prompts; i++)
      prompts.add(rng.ints(promptLength(i, s.longestPrompt), 0, vocab).toArray());
    Generator g = new Generator(model);
    Generator.Settings greedy = Generator.Settings.greedy(s.newTokens, -1);
    List<Generator.Request> requests = new ArrayList<>();
    for (int[] p : prompts) requests.add(new Generator.Request(p, greedy));
    double[] single = new double[s.rounds], batched = new double[s.rounds];
    int identical = 0;
    for (int round = -1; round < s.rounds; round++) {
      long t0 = System.nanoTime();
      List<int[]> one = new ArrayList<>();
      for (int[] p : prompts) one.add(g.generate(p, greedy).tokens());
      if (dev.flantune.model.StepProfile.enabled()) dev.flantune.model.StepProfile.reset();
      long t1 = System.nanoTime();
      List<Generator.Result> many = g.generate(requests, s.batch);
      long t2 = System.nanoTime();
      if (round < 0) continue; // warm-up
      single[round] = (t1 - t0) / 1e9;
      batched[round] = (t2 - t1) / 1e9;
      for (int i = 0; i < prompts.size(); i++)
        if (Arrays.equals(one.get(i), many.get(i).tokens())) identical++;
    }
    long tokens = (long) s.prompts * s.newTokens;
    ObjectNode o = new ObjectMapper().createObjectNode();
    o.put("impl", "flan-tune");
    o.put("mode", "generate");
    o.put("prompts", s.prompts);
    o.put("longest_prompt", s.longestPrompt);
    o.put("new_tokens", s.newTokens);
    o.put("batch", s.batch);
    o.put("rounds", s.rounds);
    side(o.putObject("one_at_a_time"), single, s.prompts, tokens);
    side(o.putObject("batched"), batched, s.prompts, tokens);
    o.put("tokens_per_s", o.get("batched").get("tokens_per_s").asDouble());
    o.put("speedup_batched_over_one", median(single) / median(batched));
    o.put("identical_rows", identical);
    o.put("compared_rows", s.rounds * s.prompts);
    o.put("peak_rss_mb", peakRssMb());
    o.put("loadavg_1m", loadAverage());
    return o;
  }

  private static void side(ObjectNode o, double[] seconds, int prompts, long tokens) {
    double med = median(seconds);
    o.put("seconds_median", med);
    var all = o.putArray("seconds_all");
    for (double x : seconds) all.add(x);
    o.put("sequences_per_s", prompts / med);
    o.put("tokens_per_s", tokens / med);
  }

  /** The table {@code bench --mode generate} prints. */
  public static void print(ObjectNode o, PrintWriter out) {
    out.printf(
        "%d prompts of %d-%d tokens, %d new tokens each (greedy, no stop token), %d rounds A B"
            + " (medians)%n",
        o.get("prompts").asInt(),
        promptLength(0, o.get("longest_prompt").asInt()),
        o.get("longest_prompt").asInt(),
        o.get("new_tokens").asInt(),
        o.get("rounds").asInt());
    out.printf("%-22s %12s %12s %10s%n", "", "sequences/s", "tokens/s", "seconds");
    for (String side : new String[] {"one_at_a_time", "batched"}) {
      var r = o.get(side);
      String name = side.equals("batched") ? "batched (batch " + o.get("batch") + ")" : "batch 1";
      out.printf(
          "%-22s %12.2f %12.1f %10.3f%n",
          name,
          r.get("sequences_per_s").asDouble(),
          r.get("tokens_per_s").asDouble(),
          r.get("seconds_median").asDouble());
    }
    out.printf(
        "speedup %.2fx; rows identical to one-at-a-time: %d of %d; peak RSS %.0f MB; load %.2f%n",
        o.get("speedup_batched_over_one").asDouble(),
        o.get("identical_rows").asInt(),
        o.get("compared_rows").asInt(),
        o.get("peak_rss_mb").asDouble(),
        o.get("loadavg_1m").asDouble());
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status")))
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return Double.NaN;
  }

  private static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
