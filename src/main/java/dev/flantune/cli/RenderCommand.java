package dev.flantune.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.config.RunConfig;
import dev.flantune.data.ChatFormat;
import dev.flantune.data.ExampleTokenizer;
import dev.flantune.data.TokenizedExample;
import dev.flantune.data.Truncation;
import dev.flantune.tasks.Example;
import dev.flantune.tasks.ExemplarPool;
import dev.flantune.tasks.OptionsFormat;
import dev.flantune.tasks.RenderOptions;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import dev.flantune.util.Jsonl;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code flan-tune render}: shows exactly what the model sees. Text output prints each prompt and
 * target as decoded from the ids, with each loss-carrying part (target and EOS; under a chat
 * template, each assistant reply and its end-of-turn token) between ⟦ and ⟧; jsonl output prints
 * {@code task, cluster, template, prompt, target, input_ids, loss_mask} (plus {@code split, line,
 * truncated_prompt_tokens}), with {@code loss_mask} aligned to {@code input_ids}.
 */
@Command(
    name = "render",
    mixinStandardHelpOptions = true,
    description = "Show exactly what the model sees: prompts, targets, token ids and loss masks.")
final class RenderCommand implements Callable<Integer> {
  static final String LOSS_OPEN = "⟦";
  static final String LOSS_CLOSE = "⟧";

  @Spec CommandSpec spec;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Source source;

  static final class Source {
    @Option(
        names = "--config",
        description = "Run config: its task collection, tokenizer, options format and max length.")
    Path config;

    @ArgGroup(exclusive = false)
    Direct direct;
  }

  static final class Direct {
    @Option(names = "--tasks", required = true, description = "Task collection directory.")
    Path tasks;

    @Option(
        names = "--tokenizer",
        required = true,
        description = "tokenizer.json, or a checkpoint directory.")
    Path tokenizer;
  }

  @Option(
      names = "--split",
      defaultValue = "train",
      description = "train or validation (default: ${DEFAULT-VALUE}).")
  String split;

  @Option(
      names = "--limit",
      defaultValue = "3",
      description = "Examples per task (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Seed of template, options and exemplar choices.")
  long seed;

  @Option(
      names = "--shots",
      description =
          "Exemplars from the train split for every example (default: as training draws them,"
              + " from the config's data.shots; zero-shot without a config).")
  Integer shots;

  @Option(
      names = "--format",
      defaultValue = "text",
      description = "text or jsonl (default: ${DEFAULT-VALUE}).")
  String format;

  @Option(
      names = "--max-length",
      defaultValue = "1024",
      description = "Maximum tokens per sequence (default: ${DEFAULT-VALUE}).")
  int maxLength;

  @Option(
      names = "--all-templates",
      description = "Render every template of each example (as evaluation does).")
  boolean allTemplates;

  @Option(
      names = "--options-format",
      defaultValue = "flan",
      description = "flan (OPTIONS:\\n- a) or random (Flan Collection variants, per example).")
  String optionsFormat;

  @Option(
      names = "--prompt-format",
      paramLabel = "plain|chat_template",
      description =
          "plain, or chat_template: through the tokenizer's chat template, loss on the assistant's"
              + " replies (default: the config's data.prompt_format, else plain).")
  String promptFormat;

  @Option(names = "--task", description = "Only this task (repeatable).")
  List<String> only;

  @Override
  public Integer call() {
    RenderSetup setup = setup();
    Task.Split s = parseSplit();
    if (!format.equals("text") && !format.equals("jsonl"))
      throw FlanTuneException.badUsage("--format must be text or jsonl");
    if (limit < 1) throw FlanTuneException.badUsage("--limit must be >= 1");
    RenderOptions options =
        setup.renderOptions().withSeed(seed).withShots(shots == null ? 0 : shots);
    if (shots != null && shots < 0) throw FlanTuneException.badUsage("--shots must be >= 0");
    PrintWriter out = spec.commandLine().getOut();
    Truncation truncation = new Truncation();
    try (Tokenizer tok = Tokenizer.load(setup.tokenizer())) {
      ExampleTokenizer exTok =
          new ExampleTokenizer(
              tok, setup.maxLength(), ChatFormat.forTraining(tok, promptFormat(setup)));
      Renderer renderer = new Renderer(options, text -> tok.encode(text).length);
      List<Task> tasks =
          only == null ? setup.tasks().tasks() : only.stream().map(setup.tasks()::task).toList();
      for (Task task : tasks) {
        if (!task.hasSplit(s)) continue;
        ExemplarPool pool =
            shots != null && shots > 0 ? ExemplarPool.of(task, Renderer.EXEMPLAR_POOL, seed) : null;
        List<Rendered> rendered = new ArrayList<>();
        for (Example e : task.split(s).first(limit)) {
          List<Example> exemplars =
              shots == null
                  ? renderer.exemplarsFor(task, e) // the training rendering's draw
                  : pool == null ? List.of() : pool.pick(e, shots);
          if (allTemplates) rendered.addAll(renderer.renderAll(task, e, exemplars));
          else rendered.add(renderer.render(task, e, renderer.templateFor(task, e), exemplars));
        }
        List<Optional<TokenizedExample>> ids = exTok.tokenizeAll(rendered, truncation);
        for (int i = 0; i < rendered.size(); i++)
          print(out, tok, rendered.get(i), ids.get(i), exTok.maxLength());
      }
    }
    out.flush();
    spec.commandLine().getErr().println("render: " + truncation.summary());
    return 0;
  }

  private RenderSetup setup() {
    if (source.config != null) return RenderSetup.fromConfig(source.config);
    OptionsFormat.Policy policy =
        switch (optionsFormat) {
          case "flan" -> OptionsFormat.Policy.FLAN_ONLY;
          case "random" -> OptionsFormat.Policy.randomAmong(OptionsFormat.FLAN_COLLECTION);
          default -> throw FlanTuneException.badUsage("--options-format must be flan or random");
        };
    return RenderSetup.of(
        source.direct.tasks,
        source.direct.tokenizer,
        RenderOptions.DEFAULTS.withOptionsFormat(policy),
        maxLength,
        RunConfig.PromptFormat.PLAIN);
  }

  private RunConfig.PromptFormat promptFormat(RenderSetup setup) {
    if (promptFormat == null) return setup.promptFormat();
    return switch (promptFormat) {
      case "plain" -> RunConfig.PromptFormat.PLAIN;
      case "chat_template" -> RunConfig.PromptFormat.CHAT_TEMPLATE;
      default ->
          throw FlanTuneException.badUsage(
              "--prompt-format: '" + promptFormat + "' is not one of plain, chat_template");
    };
  }

  private Task.Split parseSplit() {
    try {
      return Task.Split.parse(split);
    } catch (IllegalArgumentException e) {
      throw FlanTuneException.badUsage("--split: " + e.getMessage());
    }
  }

  private void print(
      PrintWriter out, Tokenizer tok, Rendered r, Optional<TokenizedExample> t, int max) {
    String where = r.example().file().getFileName() + ":" + r.example().line();
    if (t.isEmpty()) {
      out.println(
          "### "
              + r.taskName()
              + " · template "
              + r.template()
              + " · "
              + where
              + " · SKIPPED: target and EOS do not fit in "
              + max
              + " tokens");
      return;
    }
    TokenizedExample x = t.get();
    if (format.equals("jsonl")) {
      ObjectNode o = Jsonl.JSON.createObjectNode();
      o.put("task", r.taskName())
          .put("cluster", r.cluster())
          .put("template", r.template())
          .put("prompt", r.prompt())
          .put("target", r.target());
      var ids = o.putArray("input_ids");
      for (int id : x.ids()) ids.add(id);
      var mask = o.putArray("loss_mask");
      for (byte m : x.lossMask()) mask.add(m);
      o.put("split", split)
          .put("line", r.example().line())
          .put("truncated_prompt_tokens", x.droppedPromptTokens());
      out.println(o);
      return;
    }
    int p = x.promptTokens();
    out.println(
        "### "
            + r.taskName()
            + " · "
            + r.cluster()
            + " · template "
            + r.template()
            + (r.task().template(r.template()).turned() ? " (turned)" : "")
            + (r.shots() > 0 ? " · " + r.shots() + "-shot" : "")
            + " · "
            + where
            + " · "
            + x.length()
            + " tokens ("
            + p
            + " before the loss, "
            + x.targetTokens()
            + " in it)"
            + (x.truncated()
                ? " · " + x.droppedPromptTokens() + " prompt tokens truncated from the start"
                : ""));
    out.println(marked(tok, x));
    out.println();
  }

  /** The decoded ids with every run of loss tokens between ⟦ and ⟧. */
  static String marked(Tokenizer tok, TokenizedExample x) {
    StringBuilder sb = new StringBuilder();
    byte[] mask = x.lossMask();
    for (int i = 0; i < mask.length; ) {
      int j = i;
      while (j < mask.length && mask[j] == mask[i]) j++;
      String text = tok.decode(Arrays.copyOfRange(x.ids(), i, j));
      sb.append(mask[i] == 1 ? LOSS_OPEN + text + LOSS_CLOSE : text);
      i = j;
    }
    return sb.toString();
  }
}
