package dev.flantune.selfinstruct;

import java.util.List;

/**
 * Text in, continuations out, a batch of prompts at a time: the one seam between Self-Instruct and
 * the model. Each request carries its own seed, so a batched implementation that decodes rows
 * together must still give every row the continuation it would get alone.
 */
public interface TextSampler {

  /**
   * One prompt to continue. {@code temperature} 0 is greedy; generation ends at the first of the
   * stop strings (not included in the text), EOS, {@code maxNewTokens} or a full context.
   */
  record Request(
      String prompt,
      int maxNewTokens,
      double temperature,
      double topP,
      long seed,
      List<String> stops) {
    public Request {
      stops = List.copyOf(stops);
    }
  }

  /** Why a continuation ended: a stop string or EOS, or the token/context limit (maybe cut). */
  enum Finish {
    STOP,
    LENGTH
  }

  /**
   * @param tokens tokens decoded for this request (including any past a stop string)
   * @param promptTruncated the prompt did not fit the context and lost tokens from its start
   */
  record Completion(String text, Finish finish, int tokens, boolean promptTruncated) {}

  /** Continues every prompt; the result list is in request order. */
  List<Completion> complete(List<Request> batch);
}
