package dev.flantune.selfinstruct;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the kept pool as a flan-tune task collection rooted at the output directory: one task,
 * {@code self_instruct/} in cluster {@code self_instruct}, in the {@code alpaca} data format (so
 * its default template is the instruction, a blank line and the input; the output is the target),
 * plus {@code alpaca.jsonl} with every kept instance for other trainers. Every tenth kept
 * instruction (with all its instances) goes to the validation split, so that no instruction is in
 * both.
 */
public final class CollectionWriter {
  public static final String TASK = "self_instruct", ALPACA = "alpaca.jsonl";

  private CollectionWriter() {}

  /**
   * Writes the collection; with nothing kept, only an empty {@code alpaca.jsonl} (a task needs at
   * least one example to load).
   */
  public static void write(Path out, List<SeedTask> kept, String source, String license) {
    StringBuilder train = new StringBuilder(), validation = new StringBuilder();
    StringBuilder all = new StringBuilder();
    for (int t = 0; t < kept.size(); t++) {
      StringBuilder split = t % 10 == 9 ? validation : train;
      for (SeedTask.Instance i : kept.get(t).instances()) {
        ObjectNode o = Jsonl.JSON.createObjectNode();
        o.put("instruction", kept.get(t).instruction());
        o.put("input", i.input());
        o.put("output", i.output());
        split.append(o).append('\n');
        all.append(o).append('\n');
      }
    }
    PoolStore.writeAtomically(out.resolve(ALPACA), all.toString());
    if (kept.isEmpty()) return;
    Path dir = out.resolve(TASK);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw FlanTuneException.runFailed(dir + ": cannot create (" + e.getMessage() + ")");
    }
    PoolStore.writeAtomically(dir.resolve("train.jsonl"), train.toString());
    String data = "{train: train.jsonl}";
    if (validation.length() > 0) {
      PoolStore.writeAtomically(dir.resolve("validation.jsonl"), validation.toString());
      data = "{train: train.jsonl, validation: validation.jsonl}";
    }
    String yaml =
        "# Written by flan-tune self-instruct; rerunning it replaces this task.\n"
            + "name: "
            + TASK
            + "\ncluster: "
            + TASK
            + "\nkind: generation\nmetric: rouge_l\nformat: alpaca\ndata: "
            + data
            + "\nsource: "
            + quoted(source)
            + "\nlicense: "
            + quoted(license)
            + "\n";
    PoolStore.writeAtomically(dir.resolve("task.yaml"), yaml);
  }

  /** A YAML double-quoted scalar (JSON strings are valid YAML). */
  private static String quoted(String s) {
    return Jsonl.JSON.getNodeFactory().textNode(s).toString();
  }
}
