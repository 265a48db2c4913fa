package dev.flantune.data;

import dev.flantune.tasks.Rendered;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Prompt and target text → {@link TokenizedExample}: {@code [bos]? ++ ids(prompt) ++ ids(target) ++
 * [eos]}, each part tokenized separately with no special tokens, exactly as {@code score} and the
 * evaluator do (tokenizing the joined text would merge tokens across the boundary, and then the
 * loss mask could not be exact). BOS is there once, at the start, when the model uses one ({@link
 * dev.flantune.tokenizer.SpecialTokens#addBos}), and never in the loss.
 *
 * <p>Truncation: the start of the prompt is dropped (after the BOS), never the target. At least one
 * token is kept before the target, because the first target token is predicted from the token
 * before it; an example whose target and EOS leave no room for that is skipped. Both are counted in
 * {@link Truncation}. Without BOS, an empty prompt becomes {@code [eos]}, GPT-2's document
 * separator, for the same reason.
 *
 * <p>With a {@link ChatFormat} ({@code prompt_format: chat_template}) each example goes through the
 * model's chat template instead, with the loss on the assistant's turns (see there).
 */
public final class ExampleTokenizer {
  private final Tokenizer tokenizer;
  private final int maxLength;
  private final int eos;
  private final int bos;
  private final ChatFormat chat;

  public ExampleTokenizer(Tokenizer tokenizer, int maxLength) {
    this(tokenizer, maxLength, null);
  }

  /** {@code chat} null: plain prompts; else every example through the chat template. */
  public ExampleTokenizer(Tokenizer tokenizer, int maxLength, ChatFormat chat) {
    if (tokenizer.eosId() < 0) {
      throw FlanTuneException.badInput(
          tokenizer.source() + ": tokenizer has no end-of-sequence token; training needs one");
    }
    if (maxLength < 2)
      throw FlanTuneException.badUsage("maximum length must be at least 2, got " + maxLength);
    this.tokenizer = tokenizer;
    this.maxLength = maxLength;
    this.eos = tokenizer.eosId();
    this.bos = tokenizer.specialTokens().prependedBos();
    this.chat = chat;
  }

  /** The chat format examples go through, or null for plain prompts. */
  public ChatFormat chat() {
    return chat;
  }

  public int maxLength() {
    return maxLength;
  }

  public int eosId() {
    return eos;
  }

  /** The BOS that starts every example, or -1 when the model uses none. */
  public int bosId() {
    return bos;
  }

  public Optional<TokenizedExample> tokenize(String prompt, String target, Truncation stats) {
    return count(
        assemble(tokenizer.encode(prompt), tokenizer.encode(target), bos, eos, maxLength), stats);
  }

  public Optional<TokenizedExample> tokenize(Rendered r, Truncation stats) {
    if (chat != null) {
      String where = r.example().file() + ":" + r.example().line();
      return chat.tokenize(ChatFormat.conversation(r), maxLength, where, stats);
    }
    return tokenize(r.prompt(), r.target(), stats);
  }

  /**
   * Tokenizes many examples with one batched tokenizer call (the fast path; same ids as one by
   * one). Short targets repeat (a classification task has a handful of answers), so their ids are
   * cached.
   */
  public List<Optional<TokenizedExample>> tokenizeAll(List<Rendered> rendered, Truncation stats) {
    if (chat != null) {
      List<Optional<TokenizedExample>> out = new ArrayList<>(rendered.size());
      for (Rendered r : rendered) out.add(tokenize(r, stats));
      return out;
    }
    int n = rendered.size();
    List<String> texts = new ArrayList<>(n * 2);
    for (Rendered r : rendered) texts.add(r.prompt());
    int[][] targets = new int[n][];
    int[] slot = new int[n];
    for (int i = 0; i < n; i++) {
      String t = rendered.get(i).target();
      targets[i] = t.length() <= CACHED_TARGET_CHARS ? targetCache.get(t) : null;
      if (targets[i] == null) {
        slot[i] = texts.size();
        texts.add(t);
      }
    }
    int[][] ids = tokenizer.encodeBatch(texts);
    List<Optional<TokenizedExample>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      if (targets[i] == null) {
        targets[i] = ids[slot[i]];
        String t = rendered.get(i).target();
        if (t.length() <= CACHED_TARGET_CHARS && targetCache.size() < CACHED_TARGETS)
          targetCache.put(t, targets[i]);
      }
      out.add(count(assemble(ids[i], targets[i], bos, eos, maxLength), stats));
    }
    return out;
  }

  private static final int CACHED_TARGET_CHARS = 48;
  private static final int CACHED_TARGETS = 1 << 14;

  /** Target text → ids; bounded, and the arrays are never modified (assemble copies them). */
  private final java.util.Map<String, int[]> targetCache = new java.util.HashMap<>();

  private static Optional<TokenizedExample> count(Optional<TokenizedExample> e, Truncation stats) {
    if (e.isPresent()) stats.seen(e.get());
    else stats.skip();
    return e;
  }

  /** The assembly rule on its own (no tokenizer, no BOS), so it can be tested token by token. */
  public static Optional<TokenizedExample> assemble(
      int[] prompt, int[] target, int eos, int maxLength) {
    return assemble(prompt, target, -1, eos, maxLength);
  }

  /**
   * The assembly rule: {@code [bos]? ++ prompt ++ target ++ [eos]} ({@code bos} < 0: none), the
   * prompt's start dropped to fit {@code maxLength}; BOS and prompt out of the loss, target and EOS
   * in it. {@link TokenizedExample#promptTokens} counts the BOS.
   */
  public static Optional<TokenizedExample> assemble(
      int[] prompt, int[] target, int bos, int eos, int maxLength) {
    int lead = bos >= 0 ? 1 : 0;
    if (prompt.length == 0 && lead == 0) prompt = new int[] {eos};
    int loss = target.length + 1;
    if (loss > maxLength - 1) return Optional.empty();
    int dropped = Math.max(0, lead + prompt.length + loss - maxLength);
    int keep = prompt.length - dropped;
    int[] ids = new int[lead + keep + loss];
    if (lead == 1) ids[0] = bos;
    System.arraycopy(prompt, dropped, ids, lead, keep);
    System.arraycopy(target, 0, ids, lead + keep, target.length);
    ids[ids.length - 1] = eos;
    byte[] mask = new byte[ids.length];
    Arrays.fill(mask, lead + keep, ids.length, (byte) 1);
    return Optional.of(new TokenizedExample(ids, mask, lead + keep, dropped));
  }
}
