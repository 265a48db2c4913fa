package dev.flantune.tasks;

/**
 * One example rendered through one template: the exact prompt and target text the tokenizer sees.
 *
 * @param shots the number of exemplars actually kept in the prompt (after the token budget)
 */
public record Rendered(
    Task task, Example example, int template, String prompt, String target, int shots) {

  public String taskName() {
    return task.name();
  }

  public String cluster() {
    return task.cluster();
  }
}
