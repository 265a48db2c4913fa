package dev.flantune.selfinstruct;

import dev.flantune.eval.Generator;
import dev.flantune.model.CausalLm;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@link TextSampler} over the KV-cache {@link Generator}, one prompt at a time (the reference
 * implementation a batched decoder must reproduce). Stop strings are checked on the decoded text
 * after every token that could complete one.
 */
public final class GeneratorSampler implements TextSampler {
  private final Generator generator;
  private final Tokenizer tokenizer;
  private final int eosId;

  public GeneratorSampler(CausalLm model, Tokenizer tokenizer) {
    this.generator = new Generator(model);
    this.tokenizer = tokenizer;
    Integer configEos = model.config().eosTokenId();
    this.eosId = tokenizer.eosId() >= 0 ? tokenizer.eosId() : configEos == null ? -1 : configEos;
  }

  @Override
  public List<Completion> complete(List<Request> batch) {
    List<Completion> out = new ArrayList<>(batch.size());
    for (Request r : batch) out.add(complete(r));
    return out;
  }

  /**
   * Generator has no stop-string hook, and its owner's package is not ours to change: the token
   * callback aborts decoding with this exception once a stop string appears.
   */
  private static final class StopReached extends RuntimeException {
    StopReached() {
      super(null, null, false, false);
    }
  }

  private Completion complete(Request r) {
    int[] prompt = tokenizer.encode(r.prompt());
    int context = generator.contextLength();
    // Leave room for the continuation: a prompt that does not fit loses its oldest tokens.
    int room = context - 1 - Math.min(r.maxNewTokens(), context / 2);
    boolean truncated = prompt.length > room;
    if (truncated) prompt = Arrays.copyOfRange(prompt, prompt.length - room, prompt.length);
    if (prompt.length == 0) prompt = new int[] {Math.max(eosId, 0)};
    int[] ids = new int[r.maxNewTokens()];
    int[] n = {0};
    // Stop strings are ASCII, so token-by-token decoding finds them even where a token ends inside
    // a UTF-8 character; the returned text is decoded from all ids at once.
    StringBuilder pieces = new StringBuilder();
    Generator.Settings s =
        new Generator.Settings(r.maxNewTokens(), r.temperature(), r.topP(), r.seed(), eosId);
    Generator.Stop stop;
    try {
      stop =
          generator
              .generate(
                  prompt,
                  s,
                  id -> {
                    ids[n[0]++] = id;
                    if (r.stops().isEmpty()) return;
                    pieces.append(tokenizer.decode(new int[] {id}));
                    if (stopIn(pieces.toString(), r.stops()) >= 0) throw new StopReached();
                  })
              .stop();
    } catch (StopReached e) {
      String text = decode(ids, n[0]);
      int at = stopIn(text, r.stops());
      return new Completion(at < 0 ? text : text.substring(0, at), Finish.STOP, n[0], truncated);
    }
    Finish finish = stop == Generator.Stop.EOS ? Finish.STOP : Finish.LENGTH;
    return new Completion(decode(ids, n[0]), finish, n[0], truncated);
  }

  private String decode(int[] ids, int n) {
    return tokenizer.decode(Arrays.copyOf(ids, n));
  }

  /** Where the earliest stop string starts in {@code text}, or -1. */
  static int stopIn(String text, List<String> stops) {
    int best = -1;
    for (String stop : stops) {
      int at = text.indexOf(stop);
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    return best;
  }
}
