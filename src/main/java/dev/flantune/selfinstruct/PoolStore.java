package dev.flantune.selfinstruct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The run's durable state in its output directory: {@code pool.jsonl}, the kept tasks, one line
 * each, appended with one write and an fsync as each is kept; and {@code state.json}, the completed
 * rounds, the options that must not change on resume and the tally, replaced atomically after every
 * round. A crash can leave a torn last line or lines of an unfinished round: {@link #resume} drops
 * both, so a resumed run continues exactly where the last complete round ended.
 */
public final class PoolStore {
  public static final String POOL = "pool.jsonl", STATE = "state.json";

  private final Path dir;

  public PoolStore(Path dir) {
    this.dir = dir;
  }

  /** A kept task and the round that produced it. */
  public record Kept(int round, SeedTask task) {}

  /** What a resumed run starts from. */
  public record Saved(int roundsDone, ObjectNode options, Tally tally, List<Kept> kept) {}

  /** Appends one kept task with a single write, then fsync: a crash tears at most this line. */
  public void append(Kept k) {
    byte[] line = line(k).getBytes(StandardCharsets.UTF_8);
    try (FileChannel ch =
        FileChannel.open(
            dir.resolve(POOL),
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.APPEND)) {
      ByteBuffer buf = ByteBuffer.wrap(line);
      while (buf.hasRemaining()) ch.write(buf);
      ch.force(false);
    } catch (IOException e) {
      throw FlanTuneException.runFailed(
          dir.resolve(POOL) + ": cannot append (" + e.getMessage() + ")");
    }
  }

  private static String line(Kept k) {
    ObjectNode o = Jsonl.JSON.createObjectNode();
    o.put("round", k.round());
    o.put("instruction", k.task().instruction());
    o.put("is_classification", k.task().isClassification());
    ArrayNode instances = o.putArray("instances");
    for (SeedTask.Instance i : k.task().instances())
      instances.addObject().put("input", i.input()).put("output", i.output());
    return o.toString() + "\n";
  }

  public void saveState(int roundsDone, ObjectNode options, Tally tally) {
    ObjectNode o = Jsonl.JSON.createObjectNode();
    o.put("version", 1);
    o.put("rounds_done", roundsDone);
    o.set("options", options);
    o.set("tally", tally.toJson());
    writeAtomically(dir.resolve(STATE), o.toPrettyString() + "\n");
  }

  /**
   * Reads the state and the pool of an earlier run, dropping what the last round left unfinished.
   */
  public Saved resume() {
    Path state = dir.resolve(STATE);
    if (!Files.isRegularFile(state))
      throw FlanTuneException.badUsage(
          state
              + " not found: nothing to resume here (start without --resume, or pick the --out of"
              + " an earlier self-instruct run)");
    JsonNode s;
    try {
      s = Jsonl.JSON.readTree(Files.readString(state));
    } catch (IOException e) {
      throw FlanTuneException.badInput(state + ": not valid JSON (" + e.getMessage() + ")");
    }
    int roundsDone = s.path("rounds_done").asInt(-1);
    if (roundsDone < 0 || !s.path("options").isObject())
      throw FlanTuneException.badInput(state + ": missing rounds_done or options");
    List<Kept> kept = new ArrayList<>();
    Path pool = dir.resolve(POOL);
    boolean dropped = false;
    if (Files.isRegularFile(pool)) {
      List<String> lines;
      try {
        lines = Files.readAllLines(pool, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw FlanTuneException.badInput(pool + ": cannot read (" + e.getMessage() + ")");
      }
      for (int i = 0; i < lines.size(); i++) {
        Kept k = parse(lines.get(i));
        if (k == null && i < lines.size() - 1)
          throw FlanTuneException.badInput(pool + ":" + (i + 1) + ": not a pool line");
        if (k == null || k.round() >= roundsDone) {
          dropped = true; // a torn last line, or a round that did not finish
          continue;
        }
        kept.add(k);
      }
    }
    if (dropped) rewritePool(kept);
    return new Saved(
        roundsDone, (ObjectNode) s.get("options"), Tally.fromJson(s.path("tally")), kept);
  }

  private static Kept parse(String line) {
    try {
      JsonNode o = Jsonl.JSON.readTree(line);
      if (o == null || !o.path("instruction").isTextual() || !o.path("instances").isArray())
        return null;
      List<SeedTask.Instance> instances = new ArrayList<>();
      for (JsonNode i : o.get("instances"))
        instances.add(new SeedTask.Instance(i.path("input").asText(), i.path("output").asText()));
      return new Kept(
          o.path("round").asInt(),
          new SeedTask(
              o.get("instruction").textValue(),
              o.path("is_classification").asBoolean(),
              instances));
    } catch (IOException e) {
      return null;
    }
  }

  private void rewritePool(List<Kept> kept) {
    StringBuilder sb = new StringBuilder();
    for (Kept k : kept) sb.append(line(k));
    writeAtomically(dir.resolve(POOL), sb.toString());
  }

  /** Writes {@code text} to a temporary file beside {@code file}, then renames it into place. */
  public static void writeAtomically(Path file, String text) {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw FlanTuneException.runFailed(file + ": cannot write (" + e.getMessage() + ")");
    }
  }
}
