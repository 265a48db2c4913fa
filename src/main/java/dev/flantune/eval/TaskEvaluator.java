package dev.flantune.eval;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.data.ChatFormat;
import dev.flantune.report.EvalReport.ModelScores;
import dev.flantune.report.EvalReport.SkippedTemplate;
import dev.flantune.report.EvalReport.TemplateScore;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.Template;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Evaluates one model on one task through each of its templates: rank classification for
 * classification tasks, greedy generation and the task's metric otherwise. Predictions are streamed
 * to the {@link PredictionWriter} as they are made.
 *
 * <p>With {@code generative} on, classification tasks are also answered by greedy generation:
 * generative accuracy (the normalized answer equals the normalized target of the right option) and
 * option rate (it equals one of the options' targets). Rank classification always picks an option;
 * generation shows whether the model answers in the asked format at all.
 *
 * <p>With a {@link ChatFormat}, the prompt is the example's conversation rendered through the
 * model's chat template with the generation prompt, and that text is what predictions record.
 */
final class TaskEvaluator {
  /** Queries ranked per scorer call: bounds the requests held at once, not the batch size. */
  private static final int CHUNK = 64;

  /**
   * Room past the longest option's target for a classification answer: EOS, and a token or two of
   * trailing punctuation or spacing, without letting a model that never stops ramble for long.
   */
  static final int EXTRA_ANSWER_TOKENS = 3;

  private final String role;
  private final RankClassifier classifier;
  private final Answerer answerer;
  private final Renderer renderer;
  private final PredictionWriter out;
  private final int maxNewTokensCap;
  private final boolean generative;
  private final ChatFormat chat;
  private long evaluations;

  TaskEvaluator(
      String role,
      RankClassifier classifier,
      Answerer answerer,
      Renderer renderer,
      PredictionWriter out,
      int maxNewTokensCap,
      boolean generative) {
    this(role, classifier, answerer, renderer, out, maxNewTokensCap, generative, null);
  }

  /** {@code chat} null: plain prompts; else every prompt through the chat template. */
  TaskEvaluator(
      String role,
      RankClassifier classifier,
      Answerer answerer,
      Renderer renderer,
      PredictionWriter out,
      int maxNewTokensCap,
      boolean generative,
      ChatFormat chat) {
    this.chat = chat;
    this.role = role;
    this.classifier = classifier;
    this.answerer = answerer;
    this.renderer = renderer;
    this.out = out;
    this.maxNewTokensCap = maxNewTokensCap;
    this.generative = generative;
  }

  /**
   * How a generated answer and a target are compared: surrounding whitespace stripped, lower case,
   * trailing punctuation removed.
   */
  static String normalize(String s) {
    String x = s.strip().toLowerCase(Locale.ROOT);
    return x.replaceAll("[\\p{P}\\s]+$", "");
  }

  /** Example × template evaluations done so far (for throughput). */
  long evaluations() {
    return evaluations;
  }

  /**
   * Templates that are not evaluated: a classification task's turned templates ask for something
   * other than the answer (their target may not even contain it), so there are no options to rank.
   */
  static List<SkippedTemplate> skipped(Task task) {
    List<SkippedTemplate> out = new ArrayList<>();
    if (task.kind() != Task.Kind.CLASSIFICATION) return out;
    for (Template t : task.templates()) {
      if (t.turned() || !t.targetUsesAnswer()) {
        out.add(
            new SkippedTemplate(
                t.index(),
                "turned template of a classification task: its target is not an option"));
      }
    }
    return out;
  }

  static List<Integer> evaluated(Task task) {
    List<Integer> skipped = skipped(task).stream().map(SkippedTemplate::template).toList();
    List<Integer> out = new ArrayList<>();
    for (Template t : task.templates()) if (!skipped.contains(t.index())) out.add(t.index());
    return out;
  }

  ModelScores evaluate(Task task, List<EvalExamples.Item> items, List<List<Example>> exemplars) {
    return evaluate(task, items, exemplars, null).all();
  }

  /** Scores on every example, and on the clean ones alone (null when no check was made). */
  record Scored(ModelScores all, ModelScores clean) {}

  /**
   * Like {@link #evaluate(Task, List, List)}, also scoring the examples with {@code clean[i]} set
   * apart (the contamination check's clean subset), from the same predictions.
   */
  Scored evaluate(
      Task task, List<EvalExamples.Item> items, List<List<Example>> exemplars, boolean[] clean) {
    List<TemplateScore> scores = new ArrayList<>(), cleanScores = new ArrayList<>();
    boolean classification = task.kind() == Task.Kind.CLASSIFICATION;
    for (int t : evaluated(task)) {
      TemplateTally tally = new TemplateTally(t, task.metric(), items.size());
      TemplateTally cleanTally =
          clean == null ? null : new TemplateTally(t, task.metric(), items.size());
      Tallies tallies = new Tallies(tally, cleanTally, clean);
      if (classification) classify(task, t, items, exemplars, tallies);
      else generate(task, t, items, exemplars, tallies);
      scores.add(tally.score(classification));
      if (cleanTally != null) cleanScores.add(cleanTally.score(classification));
    }
    return new Scored(new ModelScores(scores), clean == null ? null : new ModelScores(cleanScores));
  }

  /** The template's tally, and the clean subset's (null without a contamination check). */
  private record Tallies(TemplateTally all, TemplateTally clean, boolean[] isClean) {
    boolean cleanAt(int i) {
      return clean != null && isClean[i];
    }
  }

  private void classify(
      Task task,
      int t,
      List<EvalExamples.Item> items,
      List<List<Example>> exemplars,
      Tallies tallies) {
    TemplateTally tally = tallies.all();
    int maxNew = generative ? answerLength(task, t, items) : 0;
    for (int start = 0; start < items.size(); start += CHUNK) {
      int end = Math.min(items.size(), start + CHUNK);
      List<RankClassifier.Query> queries = new ArrayList<>(end - start);
      for (int i = start; i < end; i++) {
        Example ex = items.get(i).example();
        Rendered r = renderer.render(task, ex, t, exemplars.get(i));
        List<String> targets =
            ex.options().stream().map(o -> renderer.renderTargetFor(task, ex, t, o)).toList();
        queries.add(
            chat == null
                ? new RankClassifier.Query(r.prompt(), targets)
                : new RankClassifier.Query(
                    promptOf(r), targets, ChatFormat.context(r), ex.file() + ":" + ex.line()));
      }
      List<Optional<RankClassifier.Ranking>> rankings = classifier.rank(queries);
      List<String> answers = List.of();
      if (generative) {
        List<String> prompts = new ArrayList<>();
        for (int i = start; i < end; i++)
          if (rankings.get(i - start).isPresent()) prompts.add(queries.get(i - start).prompt());
        answers = answerer.answer(prompts, maxNew);
      }
      int answered = 0;
      for (int i = start; i < end; i++) {
        Optional<RankClassifier.Ranking> ranking = rankings.get(i - start);
        evaluations++;
        if (ranking.isEmpty()) {
          tally.skip();
          if (tallies.cleanAt(i)) tallies.clean().skip();
          continue;
        }
        Example ex = items.get(i).example();
        RankClassifier.Ranking rk = ranking.get();
        List<String> options = ex.options();
        int answer = options.indexOf(ex.answer());
        tally.classified(
            i, rk.best() == answer, rk.bestPerToken() == answer, rk.bestPerChar() == answer);
        if (tallies.cleanAt(i))
          tallies
              .clean()
              .classified(
                  i, rk.best() == answer, rk.bestPerToken() == answer, rk.bestPerChar() == answer);
        ObjectNode line =
            PredictionWriter.line(
                role,
                task.name(),
                t,
                items.get(i).index(),
                queries.get(i - start).prompt(),
                options.get(rk.best()),
                ex.answer());
        PredictionWriter.options(line, options, rk.logprob(), rk.tokens());
        if (generative) {
          String said = answers.get(answered++);
          List<String> targets = queries.get(i - start).targets();
          Set<String> allowed = new HashSet<>();
          targets.forEach(x -> allowed.add(normalize(x)));
          boolean right = normalize(said).equals(normalize(targets.get(answer)));
          tally.answered(i, right, allowed.contains(normalize(said)));
          if (tallies.cleanAt(i))
            tallies.clean().answered(i, right, allowed.contains(normalize(said)));
          line.put("generation", said);
          targets.forEach(line.withArray("option_targets")::add);
        }
        out.write(line);
      }
    }
  }

  private void generate(
      Task task,
      int t,
      List<EvalExamples.Item> items,
      List<List<Example>> exemplars,
      Tallies tallies) {
    TemplateTally tally = tallies.all();
    List<Rendered> rendered = new ArrayList<>(items.size());
    int longest = 1;
    for (int i = 0; i < items.size(); i++) {
      Rendered r = renderer.render(task, items.get(i).example(), t, exemplars.get(i));
      rendered.add(r);
      longest = Math.max(longest, answerer.tokenCount(r.target()));
    }
    // Room for the longest reference twice over: enough to be judged, not enough to ramble for
    // long.
    int maxNew = Math.min(maxNewTokensCap, 2 * longest);
    List<String> predictions = new ArrayList<>(items.size());
    for (int start = 0; start < items.size(); start += CHUNK) {
      List<String> prompts = new ArrayList<>();
      for (int i = start; i < Math.min(items.size(), start + CHUNK); i++)
        prompts.add(promptOf(rendered.get(i)));
      predictions.addAll(answerer.answer(prompts, maxNew)); // decoded together
    }
    for (int i = 0; i < items.size(); i++) {
      Rendered r = rendered.get(i);
      String prompt = promptOf(r), prediction = predictions.get(i);
      double s = tally.generated(i, prediction, r.target());
      if (tallies.cleanAt(i)) tallies.clean().generated(i, prediction, r.target());
      evaluations++;
      ObjectNode line =
          PredictionWriter.line(
              role, task.name(), t, items.get(i).index(), prompt, prediction, r.target());
      if (!Double.isNaN(s)) line.put("score", s);
      out.write(line);
    }
  }

  /** The text the model continues: the plain prompt, or the chat template's generation prompt. */
  private String promptOf(Rendered r) {
    return chat == null ? r.prompt() : chat.generationPrompt(ChatFormat.context(r));
  }

  /** New tokens for a classification answer: the longest option target of the template + a few. */
  private int answerLength(Task task, int t, List<EvalExamples.Item> items) {
    java.util.Map<String, Integer> counted = new java.util.HashMap<>();
    int longest = 1;
    for (EvalExamples.Item it : items) {
      Example ex = it.example();
      for (String o : ex.options()) {
        String target = renderer.renderTargetFor(task, ex, t, o);
        longest = Math.max(longest, counted.computeIfAbsent(target, answerer::tokenCount));
      }
    }
    return Math.min(maxNewTokensCap, longest + EXTRA_ANSWER_TOKENS);
  }
}
