package dev.flantune.eval;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Streams {@code predictions.jsonl}: one line per model × task × template × example, written as
 * soon as it is known, so nothing accumulates in memory however large the evaluation.
 */
final class PredictionWriter implements AutoCloseable {
  private final Path file;
  private final BufferedWriter out;

  PredictionWriter(Path file) {
    this.file = file;
    try {
      this.out = Files.newBufferedWriter(file);
    } catch (IOException e) {
      throw FlanTuneException.badUsage(
          file + ": cannot write predictions (" + e.getMessage() + ")");
    }
  }

  /** The fields every line has. */
  static ObjectNode line(
      String model,
      String task,
      int template,
      int index,
      String prompt,
      String prediction,
      String answer) {
    ObjectNode o = Jsonl.JSON.createObjectNode();
    o.put("model", model)
        .put("task", task)
        .put("template", template)
        .put("index", index)
        .put("prompt", prompt)
        .put("prediction", prediction)
        .put("answer", answer);
    return o;
  }

  /**
   * Adds a classification line's options, their log-probabilities and token counts, in the options'
   * order.
   */
  static void options(ObjectNode o, List<String> options, double[] logprob, int[] tokens) {
    ArrayNode names = o.putArray("options");
    options.forEach(names::add);
    ArrayNode lp = o.putArray("options_logprob");
    for (double v : logprob) lp.add(v);
    ArrayNode tk = o.putArray("options_tokens");
    for (int v : tokens) tk.add(v);
  }

  void write(ObjectNode line) {
    try {
      out.write(Jsonl.JSON.writeValueAsString(line));
      out.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot write predictions", e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(file + ": cannot write predictions", e);
    }
  }
}
