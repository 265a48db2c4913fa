package dev.flantune.tasks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.chat.ChatTurn;
import dev.flantune.util.FlanTuneException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * How one data line becomes template fields. {@code flan} is the native format (any fields, plus
 * {@code answer}); the others import data people already have, each as a generation task with its
 * own default template (a {@code task.yaml} may still give its own templates over the same fields):
 *
 * <ul>
 *   <li>{@code alpaca}: {@code instruction}, optional {@code input}, {@code output}. Fields {@code
 *       instruction}, {@code input}, {@code prompt} (instruction, then a blank line and the input
 *       when there is one) and {@code answer} (= output).
 *   <li>{@code prompt_completion}: {@code prompt}, {@code completion}. Fields {@code prompt} and
 *       {@code answer} (= completion).
 *   <li>{@code chat}: {@code messages}, a list of {@code {role, content}} ending with an {@code
 *       assistant} turn, which is the target. Field {@code conversation} holds the earlier turns as
 *       {@code Role: content} paragraphs followed by {@code Assistant:}; {@code answer} the last
 *       turn.
 * </ul>
 *
 * Other scalar fields of a line are kept as template fields in every format.
 */
public enum DataFormat {
  FLAN(List.of()),
  ALPACA(List.of(Template.of(0, "{prompt}", "{answer}", false))),
  PROMPT_COMPLETION(List.of(Template.of(0, "{prompt}", "{answer}", false))),
  CHAT(List.of(Template.of(0, "{conversation}", "{answer}", false)));

  private final List<Template> defaultTemplates;

  DataFormat(List<Template> defaultTemplates) {
    this.defaultTemplates = defaultTemplates;
  }

  public String yamlName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  /** The template used when {@code task.yaml} gives none (FLAN tasks must give their own). */
  public List<Template> defaultTemplates() {
    return defaultTemplates;
  }

  /**
   * The template fields of one line: its scalar fields as text, plus the format's derived fields.
   * Non-scalar fields (other than those the format reads) are left out; a template naming one gets
   * a "missing field" error that says so. {@code where} is {@code file:line} for messages.
   */
  public Map<String, String> fields(ObjectNode line, String where) {
    Map<String, String> f = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = line.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (v.isTextual()) f.put(e.getKey(), v.textValue());
      else if (v.isNumber() || v.isBoolean()) f.put(e.getKey(), v.asText());
    }
    switch (this) {
      case FLAN -> {}
      case ALPACA -> {
        String instruction = text(line, "instruction", where);
        String input = line.has("input") ? text(line, "input", where) : "";
        f.put("input", input);
        f.put("prompt", input.isBlank() ? instruction : instruction + "\n\n" + input);
        f.put(Template.ANSWER, text(line, "output", where));
      }
      case PROMPT_COMPLETION -> {
        text(line, "prompt", where);
        f.put(Template.ANSWER, text(line, "completion", where));
      }
      case CHAT -> chat(line, where, f);
    }
    return f;
  }

  /**
   * The conversation of a {@code chat} line, turn by turn (validated by {@link #fields}, which runs
   * first); empty for the other formats. {@code data.prompt_format: chat_template} trains on it.
   */
  public List<ChatTurn> turns(ObjectNode line) {
    if (this != CHAT) return List.of();
    List<ChatTurn> out = new java.util.ArrayList<>();
    for (JsonNode m : line.get("messages"))
      out.add(ChatTurn.of(m.get("role").textValue(), m.get("content").textValue()));
    return out;
  }

  private static void chat(ObjectNode line, String where, Map<String, String> f) {
    JsonNode messages = line.get("messages");
    if (messages == null || !messages.isArray() || messages.isEmpty()) {
      throw FlanTuneException.badInput(
          where + ": field 'messages' must be a non-empty list of {role, content}");
    }
    StringBuilder conversation = new StringBuilder();
    for (int i = 0; i < messages.size(); i++) {
      JsonNode m = messages.get(i);
      String at = where + ": field 'messages[" + i + "]";
      if (!m.isObject() || !m.path("role").isTextual() || !m.path("content").isTextual()) {
        throw FlanTuneException.badInput(
            at + "' must be an object with string 'role' and 'content'");
      }
      String role = m.get("role").textValue();
      if (!role.equals("system") && !role.equals("user") && !role.equals("assistant")) {
        throw FlanTuneException.badInput(
            at + ".role' is '" + role + "'; use system, user or assistant");
      }
      String content = m.get("content").textValue();
      if (i == messages.size() - 1) {
        if (!role.equals("assistant")) {
          throw FlanTuneException.badInput(
              at + ".role' must be 'assistant': the last turn is the target");
        }
        f.put(Template.ANSWER, content);
      } else {
        conversation
            .append(Character.toUpperCase(role.charAt(0)))
            .append(role.substring(1))
            .append(": ")
            .append(content)
            .append("\n\n");
      }
    }
    f.put("conversation", conversation.append("Assistant:").toString());
  }

  private static String text(ObjectNode line, String field, String where) {
    JsonNode v = line.get(field);
    if (v == null) throw FlanTuneException.badInput(where + ": missing field '" + field + "'");
    if (!v.isTextual())
      throw FlanTuneException.badInput(where + ": field '" + field + "' must be a string");
    return v.textValue();
  }
}
