package dev.flantune.tasks;

import dev.flantune.chat.ChatTurn;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One validated example: its template fields (answer included) and, for classification, its
 * options. Validation happened when it was read ({@link SplitSource}), so every field its task's
 * templates name is present and the answer is one of the options.
 *
 * @param line 1-based line of the example in {@code file} (errors and reports name it)
 * @param position where the example can be read again: the byte offset of its line in a JSONL file,
 *     or its index in a JSON array file (see {@link SplitSource#reader()})
 * @param turns the conversation of a {@code chat} line ({@code messages}, last turn the
 *     assistant's), empty for other formats; {@code fields} hold it flattened for plain prompts
 */
public record Example(
    String task,
    Path file,
    int line,
    long position,
    Map<String, String> fields,
    List<String> options,
    List<ChatTurn> turns) {

  public Example {
    turns = List.copyOf(turns);
  }

  /** An example that is not a conversation. */
  public Example(
      String task,
      Path file,
      int line,
      long position,
      Map<String, String> fields,
      List<String> options) {
    this(task, file, line, position, fields, options, List.of());
  }

  public String answer() {
    return fields.get(Template.ANSWER);
  }

  /** A stable identity for seeded choices (template, options format, exemplars). */
  public long key() {
    return Seeds.mix(Seeds.hash(task), Seeds.hash(file.getFileName().toString()), line);
  }
}
