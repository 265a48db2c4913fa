package dev.flantune.tasks;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * Renders examples into {@code (prompt, target)} text: zero-shot, or k-shot with exemplars from the
 * train split joined by a delimiter and pruned to a token budget. Every seeded choice (template,
 * options format) is a hash of the seed and the example's identity, so it is reproducible whatever
 * order examples are visited in.
 *
 * <p>Prompt layout (k-shot; zero-shot is the last paragraph alone):
 *
 * <pre>
 * exemplar input ⏎ exemplar target   (the exemplar's prompt, separator, target)
 * ⟨delimiter⟩ ...
 * ⟨delimiter⟩ query input ⏎          (the separator is part of the prompt)
 * </pre>
 */
public final class Renderer {
  private final RenderOptions options;
  private final ToIntFunction<String> tokenCount;

  /**
   * @param tokenCount estimates a text's token count for the few-shot budget (the tokenizer's own
   *     count, or an approximation; truncation at tokenization is the hard limit either way)
   */
  public Renderer(RenderOptions options, ToIntFunction<String> tokenCount) {
    this.options = options;
    this.tokenCount = tokenCount;
  }

  /** A renderer whose budget estimate is one token per 4 characters (GPT-2 English averages ~4). */
  public Renderer(RenderOptions options) {
    this(options, s -> (s.length() + 3) / 4);
  }

  public RenderOptions options() {
    return options;
  }

  /** The template this example trains with under this seed: uniform over the task's templates. */
  public int templateFor(Task task, Example ex) {
    return Seeds.index(Seeds.mix(options.seed(), ex.key(), 0x7e3a1), task.templates().size());
  }

  /**
   * The training rendering: the seeded template, with the seeded number of exemplars from the
   * options' shot mix in front (none for the default mix {@code [0]}).
   */
  public Rendered render(Task task, Example ex) {
    return render(task, ex, templateFor(task, ex), exemplarsFor(task, ex));
  }

  /**
   * The exemplars the training rendering puts in front of {@code ex}: a count drawn from the shot
   * mix by the example's identity, then that many distinct examples of the task's train split
   * (never {@code ex} itself) from a seeded pool.
   */
  public List<Example> exemplarsFor(Task task, Example ex) {
    List<Integer> mix = options.shotMix();
    int k =
        mix.size() == 1
            ? mix.get(0)
            : mix.get(Seeds.index(Seeds.mix(options.seed(), ex.key(), 0x5407), mix.size()));
    if (k == 0) return List.of();
    return pools
        .computeIfAbsent(task.name(), n -> ExemplarPool.of(task, EXEMPLAR_POOL, options.seed()))
        .pick(ex, k);
  }

  /** Train examples sampled per task to draw exemplars from (bounded memory for large splits). */
  public static final int EXEMPLAR_POOL = 64;

  private final java.util.Map<String, ExemplarPool> pools =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Renders through template {@code t}, with {@code exemplars} (may be empty) in front. */
  public Rendered render(Task task, Example ex, int t, List<Example> exemplars) {
    Template tpl = task.template(t);
    String query = prompt(task, ex, tpl);
    String target = tpl.renderTarget(fields(task, ex, ex.answer()));
    if (exemplars.isEmpty()) return new Rendered(task, ex, t, query, target, 0);
    List<String> blocks = new ArrayList<>(exemplars.size());
    for (Example e : exemplars) {
      blocks.add(prompt(task, e, tpl) + tpl.renderTarget(fields(task, e, e.answer())));
    }
    String delim = options.exemplarDelimiter();
    int budget = options.fewShotTokenBudget() - tokenCount.applyAsInt(query);
    int first =
        blocks.size(); // keep blocks [first, size): the ones nearest the query survive pruning
    while (first > 0 && budget - tokenCount.applyAsInt(blocks.get(first - 1) + delim) >= 0) {
      budget -= tokenCount.applyAsInt(blocks.get(first - 1) + delim);
      first--;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = first; i < blocks.size(); i++) sb.append(blocks.get(i)).append(delim);
    return new Rendered(task, ex, t, sb.append(query).toString(), target, blocks.size() - first);
  }

  /** The example through every template, for evaluation (FLAN reports the spread across them). */
  public List<Rendered> renderAll(Task task, Example ex, List<Example> exemplars) {
    List<Rendered> out = new ArrayList<>(task.templates().size());
    for (int t = 0; t < task.templates().size(); t++) out.add(render(task, ex, t, exemplars));
    return out;
  }

  /** The zero-shot prompt of {@code ex} through template {@code t}, separator included. */
  public String prompt(Task task, Example ex, int t) {
    return prompt(task, ex, task.template(t));
  }

  /**
   * The target of template {@code t} with {@code {answer}} = {@code answerText}: the evaluator
   * renders each option this way and scores it after {@link #prompt}. Only meaningful for templates
   * whose target uses {@code {answer}} (not {@link Template#turned()} ones).
   */
  public String renderTargetFor(Task task, Example ex, int t, String answerText) {
    return task.template(t).renderTarget(fields(task, ex, answerText));
  }

  private String prompt(Task task, Example ex, Template tpl) {
    String input = tpl.renderInput(fields(task, ex, ex.answer()));
    if (input.isEmpty() || Character.isWhitespace(input.charAt(input.length() - 1))) return input;
    return input + options.targetSeparator();
  }

  private java.util.function.Function<String, String> fields(Task task, Example ex, String answer) {
    return name ->
        switch (name) {
          case Template.ANSWER -> answer;
          case Template.OPTIONS ->
              options
                  .optionsFormat()
                  .choose(Seeds.mix(options.seed(), ex.key(), 0x0b7))
                  .render(ex.options());
          default -> ex.fields().get(name);
        };
  }
}
