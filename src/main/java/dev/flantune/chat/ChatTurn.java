package dev.flantune.chat;

import java.util.LinkedHashMap;
import java.util.Map;

/** One message of a conversation: {@code role} (system, user, assistant, …) and its text. */
public record ChatTurn(String role, String content) {
  public static ChatTurn of(String role, String content) {
    return new ChatTurn(role, content);
  }

  public boolean isAssistant() {
    return role.equals("assistant");
  }

  /** As the template sees it: {@code {"role": …, "content": …}}, in that order. */
  Map<String, Object> asMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("role", role);
    m.put("content", content);
    return m;
  }
}
