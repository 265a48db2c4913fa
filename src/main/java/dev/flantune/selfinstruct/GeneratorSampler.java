package dev.flantune.selfinstruct;

import dev.flantune.eval.Generator;
import dev.flantune.model.CausalLm;
import dev.flantune.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * {@link TextSampler} over the KV-cache {@link Generator}, a call's requests decoded together (up
 * to {@code rows} at once, each row with its own seed, so a row's text does not depend on its
 * neighbours). Stop strings are checked on the decoded text after every token; a row ends at the
 * first.
 */
public final class GeneratorSampler implements TextSampler {
  /** Rows decoded together unless the caller asks for more. */
  public static final int ROWS = 16;

  private final Generator generator;
  private final Tokenizer tokenizer;
  private final int eosId;
  private final int rows;

  public GeneratorSampler(CausalLm model, Tokenizer tokenizer) {
    this(model, tokenizer, ROWS);
  }

  public GeneratorSampler(CausalLm model, Tokenizer tokenizer, int rows) {
    if (rows < 1) throw new IllegalArgumentException("rows must be >= 1");
    this.generator = new Generator(model);
    this.tokenizer = tokenizer;
    this.rows = rows;
    Integer configEos = model.config().eosTokenId();
    this.eosId = tokenizer.eosId() >= 0 ? tokenizer.eosId() : configEos == null ? -1 : configEos;
  }

  @Override
  public List<Completion> complete(List<Request> batch) {
    List<Generator.Request> requests = new ArrayList<>(batch.size());
    List<Boolean> truncated = new ArrayList<>(batch.size());
    for (Request r : batch) {
      int[] prompt = tokenizer.encode(r.prompt());
      int context = generator.contextLength();
      // Leave room for the continuation: a prompt that does not fit loses its oldest tokens.
      int room = context - 1 - Math.min(r.maxNewTokens(), context / 2);
      truncated.add(prompt.length > room);
      if (prompt.length > room)
        prompt = Arrays.copyOfRange(prompt, prompt.length - room, prompt.length);
      if (prompt.length == 0) prompt = new int[] {Math.max(eosId, 0)};
      Generator.Settings s =
          new Generator.Settings(r.maxNewTokens(), r.temperature(), r.topP(), r.seed(), eosId);
      requests.add(new Generator.Request(prompt, s, stopHook(r.stops())));
    }
    List<Generator.Result> results = generator.generate(requests, rows);
    List<Completion> out = new ArrayList<>(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      Generator.Result res = results.get(i);
      int[] ids = res.tokens();
      String text = decode(ids, ids.length);
      Finish finish = res.stop() == Generator.Stop.EOS ? Finish.STOP : Finish.LENGTH;
      if (res.stop() == Generator.Stop.STOPPED) {
        int at = stopIn(text, batch.get(i).stops());
        if (at >= 0) text = text.substring(0, at);
        finish = Finish.STOP;
      }
      out.add(new Completion(text, finish, ids.length, truncated.get(i)));
    }
    return out;
  }

  /**
   * False (stop the row) once a stop string appears. Stop strings are ASCII, so token-by-token
   * decoding finds them even where a token ends inside a UTF-8 character; the returned text is
   * decoded from all ids at once.
   */
  private IntPredicate stopHook(List<String> stops) {
    if (stops.isEmpty()) return id -> true;
    StringBuilder pieces = new StringBuilder();
    return id -> {
      pieces.append(tokenizer.decode(new int[] {id}));
      return stopIn(pieces.toString(), stops) < 0;
    };
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
