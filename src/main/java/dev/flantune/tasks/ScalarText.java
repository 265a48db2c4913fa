package dev.flantune.tasks;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Reads a task file (YAML) or a data line (JSON) into a tree whose scalars are the text the user
 * typed. YAML 1.1 would turn {@code options: [yes, no]} into booleans and {@code 007} into 7; a
 * task file means the words, so every scalar becomes a text node holding its source text ({@code
 * yes}, {@code 1.0}, {@code 007}, {@code 1e3}, {@code null}). Only an empty value and {@code ~} are
 * "no value". Run configs are not read this way: there {@code lr: 1e-3} is a number.
 */
final class ScalarText {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ScalarText() {}

  /** The document's root value, or null for an empty document. */
  static JsonNode read(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    return t == null ? null : value(p, t);
  }

  /** The value starting at the parser's current token (for arrays read element by element). */
  static JsonNode current(JsonParser p) throws IOException {
    return value(p, p.currentToken());
  }

  private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT -> {
        ObjectNode o = NODES.objectNode();
        for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
          String name = p.currentName();
          o.set(name, value(p, p.nextToken()));
        }
        return o;
      }
      case START_ARRAY -> {
        ArrayNode a = NODES.arrayNode();
        for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken())
          a.add(value(p, e));
        return a;
      }
      case VALUE_NULL -> {
        String text = p.getText();
        // JSON's null, YAML's empty value and ~: nothing was written; YAML's word null is a word.
        return text == null || text.isEmpty() || text.equals("~") || !isYaml(p)
            ? NODES.nullNode()
            : NODES.textNode(text);
      }
      default -> {
        return NODES.textNode(p.getText());
      }
    }
  }

  private static boolean isYaml(JsonParser p) {
    return p instanceof com.fasterxml.jackson.dataformat.yaml.YAMLParser;
  }
}
