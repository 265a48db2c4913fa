package dev.flantune.tasks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The examples of one split file, read lazily and validated one by one. JSONL files are streamed
 * line by line (with each line's byte offset, so a {@link Reader} can read it again later by
 * seeking); a {@code .json} file holds one JSON array (Alpaca's layout) and is parsed whole, so
 * large data should be JSONL. Blank lines are skipped; an example's index counts the non-blank
 * lines before it.
 *
 * <p>Every error names the file, the line and the field, and is a bad-input error (exit 3).
 */
public final class SplitSource {
  private final Task task;
  private final Path file;
  private final boolean jsonArray;

  /** Each field the templates read, with the first template that reads it (for error messages). */
  private final Map<String, Integer> required = new LinkedHashMap<>();

  private final boolean needsOptions;

  SplitSource(Task task, Path file) {
    this.task = task;
    this.file = file;
    this.jsonArray = file.getFileName().toString().endsWith(".json");
    for (Template t : task.templates()) {
      for (String f : t.exampleFields()) required.putIfAbsent(f, t.index());
    }
    needsOptions = task.templates().stream().anyMatch(t -> t.uses(Template.OPTIONS));
  }

  public Path file() {
    return file;
  }

  /** Calls {@code sink} with every example in file order; stops early if it throws. */
  public void forEach(Consumer<Example> sink) {
    if (jsonArray) {
      for (Raw r : arrayElements()) sink.accept(validate(r.object, r.line, r.position));
      return;
    }
    JsonlLines.forEach(
        file,
        (line, offset, bytes, len) -> sink.accept(validate(parse(bytes, len, line), line, offset)));
  }

  /** The first example, or null for an empty file; used to check templates when a task loads. */
  public Example first() {
    List<Example> one = first(1);
    return one.isEmpty() ? null : one.get(0);
  }

  /** Up to the first {@code n} examples in file order, reading no further than needed. */
  public List<Example> first(int n) {
    List<Example> out = new java.util.ArrayList<>(Math.min(n, 1024));
    if (n <= 0) return out;
    try {
      forEach(
          e -> {
            out.add(e);
            if (out.size() == n) throw new StopScan();
          });
    } catch (StopScan stop) {
      // read enough
    }
    return out;
  }

  private static final class StopScan extends RuntimeException {
    StopScan() {
      super(null, null, false, false);
    }
  }

  /** The number of examples, counted without parsing (non-blank lines for JSONL). */
  public int count() {
    if (jsonArray) return arrayElements().size();
    int[] n = new int[1];
    JsonlLines.forEach(file, (line, offset, bytes, len) -> n[0]++);
    return n[0];
  }

  /**
   * Where example {@code index} (0-based, in file order) starts, and its line; one sequential scan.
   */
  public record Position(long position, int line) {}

  /**
   * The positions of examples {@code sortedIndices} (ascending, repeats allowed), in that order.
   */
  public Position[] positions(int[] sortedIndices) {
    Position[] out = new Position[sortedIndices.length];
    if (sortedIndices.length == 0) return out;
    if (jsonArray) {
      List<Raw> all = arrayElements();
      for (int i = 0; i < out.length; i++)
        out[i] = new Position(sortedIndices[i], all.get(sortedIndices[i]).line);
      return out;
    }
    int[] k = {0, 0}; // k[0]: next wanted slot; k[1]: index of the current example
    try {
      JsonlLines.forEach(
          file,
          (line, offset, bytes, len) -> {
            while (k[0] < out.length && sortedIndices[k[0]] == k[1])
              out[k[0]++] = new Position(offset, line);
            k[1]++;
            if (k[0] == out.length) throw new StopScan();
          });
    } catch (StopScan done) {
      return out;
    }
    throw FlanTuneException.badInput(
        file
            + ": has "
            + k[1]
            + " examples, expected at least "
            + (sortedIndices[sortedIndices.length - 1] + 1)
            + " (did the file change while in use?)");
  }

  /** Reads single examples by {@link Position}; keeps the file open until closed. */
  public Reader reader() {
    return new Reader();
  }

  public final class Reader implements AutoCloseable {
    private final JsonlLines.RandomAccess access = jsonArray ? null : JsonlLines.open(file);
    private final List<Raw> elements = jsonArray ? arrayElements() : null;

    public Example read(Position p) {
      if (elements != null) {
        Raw r = elements.get((int) p.position());
        return validate(r.object, r.line, r.position);
      }
      byte[] bytes = access.lineAt(p.position());
      return validate(parse(bytes, bytes.length, p.line()), p.line(), p.position());
    }

    @Override
    public void close() {
      if (access != null) access.close();
    }
  }

  private ObjectNode parse(byte[] bytes, int len, int line) {
    JsonNode node;
    try {
      // Numbers stay as written: an answer 1e3 is "1e3", not "1000.0".
      try (JsonParser p = Jsonl.JSON.getFactory().createParser(bytes, 0, len)) {
        node = ScalarText.read(p);
      }
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          file + ":" + line + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
    if (node == null || !node.isObject()) {
      throw FlanTuneException.badInput(file + ":" + line + ": each line must be one JSON object");
    }
    return (ObjectNode) node;
  }

  private record Raw(ObjectNode object, int line, long position) {}

  private List<Raw> arrayElements() {
    List<Raw> out = new ArrayList<>();
    try (JsonParser p = Jsonl.JSON.getFactory().createParser(file.toFile())) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw FlanTuneException.badInput(
            file + ":1: a .json split must hold one JSON array of objects (or use .jsonl)");
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        int line = p.currentTokenLocation().getLineNr();
        if (t != JsonToken.START_OBJECT)
          throw FlanTuneException.badInput(file + ":" + line + ": array items must be objects");
        out.add(new Raw((ObjectNode) ScalarText.current(p), line, out.size()));
      }
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          file + ": not valid JSON (" + firstLine(e.getMessage()) + ")", e);
    }
    return out;
  }

  /** Turns one parsed line into an example, or fails naming file, line and field. */
  Example validate(ObjectNode o, int line, long position) {
    String where = file + ":" + line;
    Map<String, String> fields = task.format().fields(o, where);
    JsonNode answer = o.get(Template.ANSWER);
    if (!fields.containsKey(Template.ANSWER)) {
      throw FlanTuneException.badInput(
          where
              + ": "
              + (answer == null ? "missing field 'answer'" : "field 'answer' must be a string"));
    }
    for (Map.Entry<String, Integer> r : required.entrySet()) {
      if (!fields.containsKey(r.getKey())) {
        String why =
            o.has(r.getKey())
                ? "field '" + r.getKey() + "' must be a string, number or boolean"
                : "missing field '" + r.getKey() + "'";
        throw FlanTuneException.badInput(
            where
                + ": "
                + why
                + " (used by template "
                + r.getValue()
                + " of task "
                + task.name()
                + ")");
      }
    }
    List<String> options = options(o, where);
    if (task.kind() == Task.Kind.CLASSIFICATION && !options.contains(fields.get(Template.ANSWER))) {
      throw FlanTuneException.badInput(
          where
              + ": field 'answer' is '"
              + fields.get(Template.ANSWER)
              + "', not one of the options "
              + options);
    }
    return new Example(task.name(), file, line, position, fields, options, task.format().turns(o));
  }

  private List<String> options(ObjectNode o, String where) {
    if (!task.options().isEmpty()) return task.options();
    JsonNode v = o.get("options");
    if (v == null) {
      if (task.kind() == Task.Kind.CLASSIFICATION || needsOptions) {
        throw FlanTuneException.badInput(
            where
                + ": missing field 'options' (task "
                + task.name()
                + " has no options in task.yaml, so each example needs an 'options' list)");
      }
      return List.of();
    }
    if (!v.isArray() || v.isEmpty())
      throw FlanTuneException.badInput(
          where + ": field 'options' must be a non-empty list of strings");
    List<String> out = new ArrayList<>(v.size());
    for (JsonNode x : v) {
      if (!x.isTextual() || x.textValue().isBlank()) {
        throw FlanTuneException.badInput(where + ": field 'options' must hold non-empty strings");
      }
      out.add(x.textValue());
    }
    return List.copyOf(out);
  }

  static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
