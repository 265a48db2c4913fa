package dev.flantune.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.Context.Library;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.loader.ResourceNotFoundException;
import dev.flantune.util.FlanTuneException;
import java.time.LocalDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * A Hugging Face chat template (Jinja), rendered as transformers renders it and in a sandbox.
 *
 * <p>transformers compiles the template in {@code ImmutableSandboxedEnvironment(trim_blocks=True,
 * lstrip_blocks=True, extensions=[loopcontrols])} with {@code raise_exception}, {@code
 * strftime_now} and its own {@code tojson}, and passes {@code messages}, {@code
 * add_generation_prompt}, {@code bos_token}, {@code eos_token} (plus {@code tools} and any extra
 * keyword). This class sets jinjava up the same way; the golden tests hold it byte-identical to
 * Python's jinja2 on real templates. Everything a template can reach is data ({@link
 * SandboxResolver}); no file can be included; output, loops, macro recursion and time are bounded
 * ({@link ChatTemplateLimits}). Any failure, including the template's own {@code raise_exception},
 * is one line naming the template, the line and the construct.
 */
public final class ChatTemplate {
  /** What the template is rendered with besides the conversation. */
  public record Settings(
      String bosToken, String eosToken, LocalDateTime now, ChatTemplateLimits limits) {
    /** The clock transformers would read, fixed so that renders are reproducible. */
    public static final LocalDateTime DEFAULT_NOW = LocalDateTime.of(2024, 7, 26, 0, 0);

    public Settings {
      bosToken = bosToken == null ? "" : bosToken;
      eosToken = eosToken == null ? "" : eosToken;
      now = now == null ? DEFAULT_NOW : now;
      limits = limits == null ? ChatTemplateLimits.DEFAULT : limits;
    }
  }

  // One thread per render at a time: the engine never checks interrupts, so the render runs off
  // the caller's thread and a render stuck inside one engine call still returns to the caller.
  private static final ExecutorService RENDERERS =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "chat-template");
            t.setDaemon(true);
            return t;
          });

  // Tags and filters of jinjava that are not Jinja's and reach outside the data, or are random.
  private static final Map<Library, Set<String>> DISABLED =
      Map.of(
          Library.TAG, Set.of("include", "import", "from", "extends"),
          Library.FILTER,
              Set.of("render", "log", "fromyaml", "toyaml", "random", "shuffle", "pprint"),
          Library.FUNCTION, Set.of("type", "today", "unixtimestamp", "super"));

  private static final Pattern LINE_END = Pattern.compile("\r\n|\r|\n");

  private final String source;
  private final String origin;
  private final Settings settings;
  private final Jinjava jinjava;

  private ChatTemplate(String source, String origin, Settings settings) {
    // jinja2 normalizes line ends and drops one trailing newline of the source (not the output).
    String normalized = LINE_END.matcher(source).replaceAll("\n");
    this.source =
        normalized.endsWith("\n") ? normalized.substring(0, normalized.length() - 1) : normalized;
    this.origin = origin;
    this.settings = settings;
    this.jinjava = engine(settings.limits());
  }

  /**
   * A template ready to render. {@code origin} names it in errors (the tokenizer_config.json path).
   * It is tried once on a two-turn conversation, so that syntax the engine cannot parse fails here.
   */
  public static ChatTemplate of(String source, String origin, Settings settings) {
    ChatTemplate template = new ChatTemplate(source, origin, settings);
    template.render(
        List.of(ChatTurn.of("user", "Hello"), ChatTurn.of("assistant", "Hi")).stream()
            .map(ChatTurn::asMap)
            .toList(),
        Map.of(),
        false);
    return template;
  }

  public Settings settings() {
    return settings;
  }

  /** Renders a conversation of plain turns. */
  public String render(List<ChatTurn> turns, boolean addGenerationPrompt) {
    return render(turns.stream().map(ChatTurn::asMap).toList(), Map.of(), addGenerationPrompt);
  }

  /**
   * Renders {@code messages} (maps as in Hugging Face's API: role, content, and optionally
   * tool_calls, …) with {@code extra} variables such as {@code tools}.
   */
  public String render(
      List<? extends Map<String, ?>> messages, Map<String, ?> extra, boolean addGenerationPrompt) {
    Map<String, Object> variables = new HashMap<>(extra);
    variables.put("messages", messages);
    variables.put("add_generation_prompt", addGenerationPrompt);
    variables.put("bos_token", settings.bosToken());
    variables.put("eos_token", settings.eosToken());
    // Python globals are variables too: templates test "strftime_now is defined".
    variables.putIfAbsent("strftime_now", "<function strftime_now>");
    variables.putIfAbsent("raise_exception", "<function raise_exception>");
    Future<String> render = RENDERERS.submit(() -> renderHere(variables));
    long graceMillis = settings.limits().maxRenderMillis() + 1_000;
    try {
      return render.get(graceMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      render.cancel(true);
      throw error(
          0, "render time limit of " + settings.limits().maxRenderMillis() + " ms exceeded");
    } catch (InterruptedException e) {
      render.cancel(true);
      Thread.currentThread().interrupt();
      throw FlanTuneException.runFailed("interrupted while rendering " + origin);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof FlanTuneException f) throw f;
      throw error(0, "the engine failed: " + e.getCause());
    }
  }

  private String renderHere(Map<String, Object> variables) {
    RenderGuard guard = RenderGuard.begin(settings.limits(), settings.now());
    try {
      RenderResult result;
      try {
        result = jinjava.renderForResult(source, variables);
      } catch (StackOverflowError e) {
        throw error(0, "recursion too deep");
      } catch (RuntimeException e) {
        if (guard.failure() == null) throw error(0, "the engine failed: " + e.getMessage());
        result = null;
      }
      if (guard.failure() != null) throw error(guard.failureLine(), guard.failure());
      for (TemplateError e : result.getErrors()) {
        if (e.getSeverity() == TemplateError.ErrorType.FATAL)
          throw error(e.getLineno(), describe(e));
      }
      if (result.getOutput().length() > settings.limits().maxOutputChars()) {
        throw error(0, "output longer than " + settings.limits().maxOutputChars() + " characters");
      }
      return result.getOutput();
    } finally {
      RenderGuard.end();
    }
  }

  private static String describe(TemplateError e) {
    String message = e.getMessage() == null ? e.getReason().toString() : e.getMessage();
    message = message.replaceAll("\\s+", " ").trim();
    return switch (e.getReason()) {
      case OUTPUT_TOO_BIG -> "output too big (" + message + ")";
      case DISABLED ->
          "'" + e.getFieldName() + "' is not available in a chat template (" + message + ")";
      default -> message;
    };
  }

  private FlanTuneException error(int line, String message) {
    String where = line > 0 ? origin + ":" + line : origin;
    return FlanTuneException.badInput(
        where + ": chat template: " + message + " (render it with transformers to compare)");
  }

  private static Jinjava engine(ChatTemplateLimits limits) {
    JinjavaConfig config =
        JinjavaConfig.newBuilder()
            .withTrimBlocks(true)
            .withLstripBlocks(true)
            .withKeepTrailingNewline(true)
            .withLegacyOverrides(
                LegacyOverrides.newBuilder()
                    .withEvaluateMapKeys(true)
                    .withIterateOverMapKeys(true)
                    .withUsePyishObjectMapper(true)
                    .withUseNaturalOperatorPrecedence(true)
                    .withParseWhitespaceControlStrictly(true)
                    .withAllowAdjacentTextNodes(true)
                    .withUseTrimmingForNotesAndExpressions(true)
                    .withKeepNullableLoopValues(true)
                    .withHandleBackslashInQuotesOnly(true)
                    .build())
            .withElResolver(new SandboxResolver())
            .withDisabled(DISABLED)
            .withNestedInterpretationEnabled(false)
            .withEnableRecursiveMacroCalls(true)
            .withMaxMacroRecursionDepth(
                limits.maxMacroDepth() + 8) // ours (RenderGuard) trips first
            .withMaxOutputSize(limits.maxOutputChars())
            .withMaxStringLength(limits.maxOutputChars())
            .withMaxListSize((int) Math.min(Integer.MAX_VALUE, limits.maxLoopIterations()))
            .withMaxMapSize((int) Math.min(Integer.MAX_VALUE, limits.maxLoopIterations()))
            .withRangeLimit((int) Math.min(Integer.MAX_VALUE - 1, limits.maxLoopIterations()) + 1)
            .withNodePreProcessor(
                (node, interpreter) -> RenderGuard.current().checkNode(interpreter))
            .build();
    Jinjava jinjava = JinjaSyntax.engine(config);
    jinjava.setResourceLocator(
        (name, encoding, interpreter) -> {
          throw new ResourceNotFoundException("a chat template may not read files: " + name);
        });
    jinjava.getGlobalContext().registerTag(new SandboxTags.GuardedFor());
    jinjava.getGlobalContext().registerTag(new SandboxTags.Generation());
    jinjava.getGlobalContext().registerFilter(new ToJsonFilter());
    TemplateFunctions.definitions().forEach(jinjava.getGlobalContext()::registerFunction);
    return jinjava;
  }

  static int currentLine() {
    JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
    return interpreter == null ? 0 : interpreter.getLineNumber();
  }
}
