package dev.flantune.selfinstruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.Jsonl;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Every count of a run: how many items reached each stage, every rejection by reason, the ROUGE-L
 * histogram, tokens and time. Saved with each round (so {@code --resume} continues the counts) and
 * written into {@code self_instruct_report.json}.
 */
public final class Tally {
  /** The stages, in pipeline order; the report lists them in this order. */
  public enum Stage {
    ROUNDS,
    PROMPTS,
    PROMPTS_TRUNCATED,
    CANDIDATE_INSTRUCTIONS,
    PASSED_INSTRUCTION_FILTERS,
    CLASSIFIED_CLASSIFICATION,
    CLASSIFIED_GENERATION,
    CLASSIFICATION_ANSWER_UNCLEAR,
    INSTANCES_PARSED,
    INSTANCES_KEPT,
    INSTRUCTIONS_KEPT;

    String key() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** ROUGE-L histogram bins: [0, 0.1), [0.1, 0.2), …, [0.9, 1.0]. */
  public static final int BINS = 10;

  private final Map<Stage, Long> stages = new EnumMap<>(Stage.class);
  private final Map<Rejection, Long> rejections = new EnumMap<>(Rejection.class);
  private final long[] rougeHistogram = new long[BINS];
  private long tokensGenerated;
  private double generationSeconds, rougeSeconds, elapsedSeconds;

  public Tally() {
    for (Stage s : Stage.values()) stages.put(s, 0L);
    for (Rejection r : Rejection.values()) rejections.put(r, 0L);
  }

  public void add(Stage s, long n) {
    stages.merge(s, n, Long::sum);
  }

  public void count(Stage s) {
    add(s, 1);
  }

  public void reject(Rejection r) {
    rejections.merge(r, 1L, Long::sum);
  }

  public long get(Stage s) {
    return stages.get(s);
  }

  public long get(Rejection r) {
    return rejections.get(r);
  }

  /** Records the best ROUGE-L of one candidate against the pool. */
  public void rouge(double maxRougeL) {
    rougeHistogram[Math.min(BINS - 1, (int) Math.floor(maxRougeL * BINS))]++;
  }

  public long[] rougeHistogram() {
    return rougeHistogram.clone();
  }

  public void generated(long tokens, double seconds) {
    tokensGenerated += tokens;
    generationSeconds += seconds;
  }

  public void rougeTime(double seconds) {
    rougeSeconds += seconds;
  }

  public void elapsed(double seconds) {
    elapsedSeconds += seconds;
  }

  public long tokensGenerated() {
    return tokensGenerated;
  }

  public ObjectNode toJson() {
    ObjectNode o = Jsonl.JSON.createObjectNode();
    ObjectNode st = o.putObject("stages");
    stages.forEach((k, v) -> st.put(k.key(), v));
    ObjectNode rj = o.putObject("rejections");
    ObjectNode ri = rj.putObject("instruction"), rn = rj.putObject("instance");
    rejections.forEach((k, v) -> (k.ofInstance() ? rn : ri).put(k.key(), v));
    ObjectNode h = o.putObject("rouge_l_histogram");
    var edges = h.putArray("bin_starts");
    for (int i = 0; i < BINS; i++) edges.add(i / (double) BINS);
    var counts = h.putArray("counts");
    for (long c : rougeHistogram) counts.add(c);
    o.put("tokens_generated", tokensGenerated);
    o.put("generation_seconds", round3(generationSeconds));
    o.put(
        "tokens_per_second",
        generationSeconds > 0 ? round3(tokensGenerated / generationSeconds) : 0.0);
    o.put("rouge_filter_seconds", round3(rougeSeconds));
    o.put("elapsed_seconds", round3(elapsedSeconds));
    return o;
  }

  /** Reads back {@link #toJson}'s output (unknown keys are ignored, missing ones stay 0). */
  public static Tally fromJson(JsonNode o) {
    Tally t = new Tally();
    for (Stage s : Stage.values()) t.stages.put(s, o.path("stages").path(s.key()).asLong(0));
    for (Rejection r : Rejection.values()) {
      String group = r.ofInstance() ? "instance" : "instruction";
      t.rejections.put(r, o.path("rejections").path(group).path(r.key()).asLong(0));
    }
    JsonNode counts = o.path("rouge_l_histogram").path("counts");
    for (int i = 0; i < BINS && i < counts.size(); i++)
      t.rougeHistogram[i] = counts.get(i).asLong();
    t.tokensGenerated = o.path("tokens_generated").asLong(0);
    t.generationSeconds = o.path("generation_seconds").asDouble(0);
    t.rougeSeconds = o.path("rouge_filter_seconds").asDouble(0);
    t.elapsedSeconds = o.path("elapsed_seconds").asDouble(0);
    return t;
  }

  private static double round3(double x) {
    return Math.round(x * 1000) / 1000.0;
  }

  /** Stage counts as a map in pipeline order (for printing). */
  public Map<String, Long> stageCounts() {
    Map<String, Long> out = new LinkedHashMap<>();
    stages.forEach((k, v) -> out.put(k.key(), v));
    return out;
  }
}
