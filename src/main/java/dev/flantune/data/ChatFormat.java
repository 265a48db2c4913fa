package dev.flantune.data;

import dev.flantune.chat.ChatTemplate;
import dev.flantune.chat.ChatTurn;
import dev.flantune.config.RunConfig;
import dev.flantune.tasks.Rendered;
import dev.flantune.tokenizer.SpecialTokens;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Examples through the model's chat template ({@code prompt_format: chat_template}): token ids with
 * the loss on each assistant turn's content and its end-of-turn token, and nothing of the
 * template's scaffolding.
 *
 * <p>An instruction example is the conversation [user: the rendered FLAN prompt without its
 * trailing separator, assistant: the target]; a {@code chat} line is its own conversation. The
 * conversation is rendered once ({@code add_generation_prompt=false}) and tokenized as one text, as
 * the model will read it. For assistant turn i, the turns before it are rendered with the
 * generation prompt: that text must begin the conversation's text (a clear error otherwise), and
 * the loss starts at the first token where the two tokenizations part, so a token that straddles
 * the boundary is in the loss. It ends with the turn's end-of-turn token, found by rendering the
 * conversation up to that turn; what the template writes after it (ChatML's newline) is not.
 *
 * <p>The end-of-turn token is the first token the template writes after an assistant's reply
 * (probed once with a two-turn conversation): {@code <|im_end|>} for ChatML, {@code <|eot_id|>} for
 * Llama 3, {@code </s>} for Zephyr. It must be a special token, and generation stops there as well
 * as at the model's EOS ids.
 *
 * <p>BOS: the rendered text is tokenized without special tokens. Most templates write {@code
 * bos_token} themselves; a model that uses BOS ({@link SpecialTokens#addBos}) whose template does
 * not gets it prepended, so every sequence starts with exactly one BOS, as in plain training.
 */
public final class ChatFormat {
  private final Tokenizer tokenizer;
  private final SpecialTokens special;
  private final ChatTemplate template;
  private final int endOfTurn;
  private final String endOfTurnText;
  private final Set<Integer> stops;

  private ChatFormat(Tokenizer tokenizer, ChatTemplate template) {
    this.tokenizer = tokenizer;
    this.special = tokenizer.specialTokens();
    this.template = template;
    String prefix = template.render(List.of(ChatTurn.of("user", "Hello")), true);
    String full =
        template.render(
            List.of(ChatTurn.of("user", "Hello"), ChatTurn.of("assistant", "Hi")), false);
    int reply = full.startsWith(prefix) ? full.indexOf("Hi", prefix.length()) : -1;
    if (reply < 0) {
      throw templateError(
          "rendering [user, assistant] does not continue the generation prompt's text with the"
              + " assistant's reply, so its loss cannot be marked");
    }
    String after = full.substring(reply + 2);
    int[] ids = tokenizer.encode(after);
    int eot = ids.length == 0 ? -1 : ids[0];
    String text = eot < 0 ? "" : tokenizer.decode(new int[] {eot});
    if (eot < 0 || !after.startsWith(text) || !isSpecial(eot, text)) {
      throw templateError(
          "the assistant's reply is followed by "
              + (after.isEmpty()
                  ? "nothing"
                  : quote(after.substring(0, Math.min(20, after.length()))))
              + ", not a special end-of-turn token; training needs one to end the loss and"
              + " evaluation to stop generating");
    }
    this.endOfTurn = eot;
    this.endOfTurnText = text;
    Set<Integer> s = new LinkedHashSet<>(special.eosIds());
    s.add(eot);
    this.stops = Set.copyOf(s);
  }

  /**
   * The chat format of a tokenizer's model. {@code what} names the setting that asked for it and
   * {@code fix} the way out, for the error when the model directory has no chat template.
   */
  public static ChatFormat of(Tokenizer tokenizer, String what, String fix) {
    Path dir = tokenizer.source().toAbsolutePath().getParent();
    SpecialTokens special = tokenizer.specialTokens();
    Path config = dir.resolve(SpecialTokens.TOKENIZER_CONFIG);
    if (special.chatTemplate().isEmpty()) {
      throw FlanTuneException.badUsage(
          config
              + " has no 'chat_template' (and "
              + SpecialTokens.CHAT_TEMPLATE_JINJA
              + " is absent), so "
              + what
              + " cannot be used; "
              + fix);
    }
    Path origin = config;
    Path jinja = dir.resolve(SpecialTokens.CHAT_TEMPLATE_JINJA);
    if (Files.isRegularFile(jinja) && !mentionsTemplate(config)) origin = jinja;
    ChatTemplate template =
        ChatTemplate.of(
            special.chatTemplate().get(),
            origin.toString(),
            new ChatTemplate.Settings(special.bosToken(), special.eosToken(), null, null));
    return new ChatFormat(tokenizer, template);
  }

  /** The chat format a run config asks for ({@code data.prompt_format}), or null for plain. */
  public static ChatFormat forTraining(Tokenizer tokenizer, RunConfig.PromptFormat format) {
    if (format != RunConfig.PromptFormat.CHAT_TEMPLATE) return null;
    return of(
        tokenizer,
        "data.prompt_format: chat_template",
        "set data.prompt_format: plain, or add the model's chat template to that file");
  }

  /** For tests: a given template over a tokenizer. */
  static ChatFormat of(Tokenizer tokenizer, ChatTemplate template) {
    return new ChatFormat(tokenizer, template);
  }

  /** The token that ends an assistant turn. */
  public int endOfTurnId() {
    return endOfTurn;
  }

  /** Generation stops at these: the model's EOS ids and the end-of-turn token. */
  public Set<Integer> stopIds() {
    return stops;
  }

  /** The conversation an example trains on: a {@code chat} line's turns, else [user, assistant]. */
  public static List<ChatTurn> conversation(Rendered r) {
    if (!r.example().turns().isEmpty()) return r.example().turns();
    return List.of(userTurn(r.prompt()), ChatTurn.of("assistant", r.target()));
  }

  /**
   * The turns before the answer: what the model is asked (the conversation minus its last turn).
   */
  public static List<ChatTurn> context(Rendered r) {
    List<ChatTurn> all = conversation(r);
    return all.subList(0, all.size() - 1);
  }

  /**
   * The rendered FLAN prompt as a user message: without the separator (or other trailing space)
   * that ends a plain prompt, since the template separates the turns itself.
   */
  public static ChatTurn userTurn(String prompt) {
    return ChatTurn.of("user", prompt.stripTrailing());
  }

  /** The text the model continues from: {@code context} with the generation prompt. */
  public String generationPrompt(List<ChatTurn> context) {
    return template.render(context, true);
  }

  /** Ids of a rendered text: no special tokens added, BOS prepended where the model needs it. */
  public int[] encodeRendered(String text) {
    return withBosUnlessWritten(tokenizer.encode(text));
  }

  private int[] withBosUnlessWritten(int[] ids) {
    boolean hasBos = ids.length > 0 && ids[0] == special.bosId() && special.bosId() >= 0;
    return special.addBos() && !hasBos ? special.withBos(ids) : ids;
  }

  /**
   * A conversation as ids and loss mask, untruncated.
   *
   * @param text the rendered conversation
   * @param lead 1 when {@code ids[0]} is a BOS (the template's or prepended), which truncation
   *     keeps, else 0
   */
  public record Marked(String text, int[] ids, byte[] mask, int lead) {
    /** The first id in the loss. */
    public int firstLoss() {
      for (int i = 0; i < mask.length; i++) if (mask[i] == 1) return i;
      return -1;
    }
  }

  /**
   * Renders and tokenizes {@code turns} with the loss on each assistant turn (content and
   * end-of-turn token). {@code where} names the example in errors.
   */
  public Marked mark(List<ChatTurn> turns, String where) {
    String text = template.render(turns, false);
    int[] own = tokenizer.encode(text);
    int[] ids = withBosUnlessWritten(own);
    int lead = ids.length - own.length; // a BOS prepended to the text's own tokens
    byte[] mask = new byte[ids.length];
    boolean any = false;
    for (int i = 0; i < turns.size(); i++) {
      if (!turns.get(i).isAssistant()) continue;
      if (i == 0) {
        throw FlanTuneException.badInput(
            where + ": the conversation starts with an assistant turn; start it with a user turn");
      }
      any = true;
      String prompt = template.render(turns.subList(0, i), true);
      String upTo = i == turns.size() - 1 ? text : template.render(turns.subList(0, i + 1), false);
      if (!upTo.startsWith(prompt)) {
        throw turnError(
            where,
            i,
            "the template's text up to it does not begin with the generation prompt's text "
                + quote(tail(prompt)));
      }
      int eot = upTo.indexOf(endOfTurnText, prompt.length());
      if (eot < 0) {
        throw turnError(where, i, "no end-of-turn token " + quote(endOfTurnText) + " after it");
      }
      String through = upTo.substring(0, eot + endOfTurnText.length());
      if (!text.startsWith(through)) {
        throw turnError(where, i, "the template renders it differently once later turns follow it");
      }
      int[] before = tokenizer.encode(prompt);
      int[] thru = through.equals(text) ? own : tokenizer.encode(through);
      int end = lead + thru.length;
      if (end > ids.length
          || !Arrays.equals(thru, Arrays.copyOfRange(ids, lead, end))
          || ids[end - 1] != endOfTurn) {
        throw turnError(
            where, i, "its tokens change when the rest of the conversation follows them");
      }
      int start = lead + commonPrefix(before, ids, lead);
      Arrays.fill(mask, Math.min(start, end - 1), end, (byte) 1);
    }
    if (!any) {
      throw FlanTuneException.badInput(
          where + ": the conversation has no assistant turn to train on");
    }
    int bos = special.bosId();
    return new Marked(text, ids, mask, bos >= 0 && ids.length > 0 && ids[0] == bos ? 1 : 0);
  }

  /**
   * {@link #mark} fitted to {@code maxLength}: tokens after the last end-of-turn token go first,
   * then the start of the conversation (after a BOS), never a token in the loss, keeping at least
   * one token before the first; empty when that cannot fit (counted in {@code stats}).
   */
  public Optional<TokenizedExample> tokenize(
      List<ChatTurn> turns, int maxLength, String where, Truncation stats) {
    Optional<TokenizedExample> out = fit(mark(turns, where), maxLength);
    if (out.isPresent()) stats.seen(out.get());
    else stats.skip();
    return out;
  }

  /**
   * The last assistant turn of {@code turns} as a scoring request: {@code [0]} the ids before its
   * reply (the conversation so far and the generation prompt), {@code [1]} the reply's tokens and
   * end-of-turn token, exactly as training marks them. The start is dropped to fit {@code
   * maxLength} (after a BOS); empty when even the reply does not fit.
   */
  public Optional<int[][]> lastReply(List<ChatTurn> turns, int maxLength, String where) {
    Marked m = mark(turns, where);
    byte[] mask = m.mask();
    int end = mask.length;
    while (end > 0 && mask[end - 1] == 0) end--;
    int start = end;
    while (start > 0 && mask[start - 1] == 1) start--;
    int lead = m.lead();
    int dropped = Math.max(0, end - maxLength);
    if (lead + dropped > start - 1) return Optional.empty();
    int[] ids = m.ids();
    int[] prompt = new int[start - dropped];
    System.arraycopy(ids, 0, prompt, 0, lead);
    System.arraycopy(ids, lead + dropped, prompt, lead, start - dropped - lead);
    return Optional.of(new int[][] {prompt, Arrays.copyOfRange(ids, start, end)});
  }

  static Optional<TokenizedExample> fit(Marked m, int maxLength) {
    int[] ids = m.ids();
    byte[] mask = m.mask();
    int first = m.firstLoss();
    int last = ids.length - 1;
    while (last >= 0 && mask[last] == 0) last--;
    int n = ids.length;
    if (n > maxLength) n = Math.max(last + 1, maxLength); // drop the trailing scaffolding first
    int dropped = Math.max(0, n - maxLength);
    int lead = m.lead();
    if (lead + dropped > first - 1) return Optional.empty();
    int keep = n - dropped;
    int[] outIds = new int[keep];
    byte[] outMask = new byte[keep];
    System.arraycopy(ids, 0, outIds, 0, lead);
    System.arraycopy(mask, 0, outMask, 0, lead);
    System.arraycopy(ids, lead + dropped, outIds, lead, keep - lead);
    System.arraycopy(mask, lead + dropped, outMask, lead, keep - lead);
    return Optional.of(new TokenizedExample(outIds, outMask, first - dropped, dropped));
  }

  /** How many leading ids of {@code a} equal {@code b}'s from {@code offset}. */
  private static int commonPrefix(int[] a, int[] b, int offset) {
    int n = 0;
    while (n < a.length && offset + n < b.length && a[n] == b[offset + n]) n++;
    return n;
  }

  /** A token the tokenizer keeps whole wherever it appears: a stop id or an added token. */
  private boolean isSpecial(int id, String text) {
    if (special.stopsAt(id)) return true;
    int[] alone = tokenizer.encode(text);
    int[] inside = tokenizer.encode("a" + text + "a");
    return alone.length == 1
        && alone[0] == id
        && Arrays.stream(inside).anyMatch(x -> x == id)
        && !text.isBlank();
  }

  private static boolean mentionsTemplate(Path tokenizerConfig) {
    try {
      return Files.isRegularFile(tokenizerConfig)
          && Files.readString(tokenizerConfig).contains("\"chat_template\"");
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private FlanTuneException templateError(String message) {
    return FlanTuneException.badInput(
        tokenizer.source().toAbsolutePath().getParent()
            + ": chat template: "
            + message
            + " (use prompt format plain for this model)");
  }

  private static FlanTuneException turnError(String where, int turn, String message) {
    return FlanTuneException.badInput(
        where
            + ": assistant turn "
            + turn
            + ": "
            + message
            + "; the chat template rewrites earlier turns, so its loss cannot be marked (use"
            + " prompt format plain)");
  }

  private static String tail(String s) {
    return s.length() <= 30 ? s : "…" + s.substring(s.length() - 30);
  }

  private static String quote(String s) {
    return "'" + s.replace("\n", "\\n") + "'";
  }
}
