package dev.flantune.util;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/** Reads JSON Lines files one object per line, with errors that name the file and line. */
public final class Jsonl {
  public static final ObjectMapper JSON = new ObjectMapper();

  private Jsonl() {}

  /** One parsed line: its 1-based line number and its object. */
  public record Line(Path file, int number, ObjectNode object) {
    /** The string field {@code name}, or a bad-input error naming file, line and field. */
    public String requireString(String name) {
      JsonNode v = object.get(name);
      if (v == null) throw FlanTuneException.badInput(where() + ": missing field '" + name + "'");
      if (!v.isTextual())
        throw FlanTuneException.badInput(where() + ": field '" + name + "' must be a string");
      return v.asText();
    }

    public String where() {
      return file + ":" + number;
    }
  }

  /** Calls {@code sink} for every non-blank line of {@code file}. */
  public static void forEach(Path file, Consumer<Line> sink) {
    if (!Files.isRegularFile(file)) throw FlanTuneException.badInput(file + ": file not found");
    try (BufferedReader r = Files.newBufferedReader(file)) {
      String text;
      int n = 0;
      while ((text = r.readLine()) != null) {
        n++;
        if (text.isBlank()) continue;
        JsonNode node;
        try {
          node = JSON.readTree(text);
        } catch (IOException e) {
          throw FlanTuneException.badInput(
              file + ":" + n + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
        }
        if (node == null || !node.isObject()) {
          throw FlanTuneException.badInput(file + ":" + n + ": each line must be one JSON object");
        }
        sink.accept(new Line(file, n, (ObjectNode) node));
      }
    } catch (IOException e) {
      throw FlanTuneException.badInput(file + ": cannot read (" + e.getMessage() + ")");
    }
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
