package dev.flantune.eval;

import java.util.List;

/**
 * Greedy answers to many prompts at once: the seam where a batched decoder plugs in. {@link
 * GreedyAnswerer} decodes them together with the batched key/value-cache decoder.
 */
interface Answerer {
  /** Each prompt's greedy continuation (stopped at EOS or after maxNewTokens), stripped. */
  List<String> answer(List<String> prompts, int maxNewTokens);

  /** The token count of a text, to size {@code maxNewTokens}. */
  int tokenCount(String text);
}
