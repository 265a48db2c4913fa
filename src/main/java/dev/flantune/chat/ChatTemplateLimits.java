package dev.flantune.chat;

/**
 * What one render of an untrusted chat template may use. A real template renders a conversation in
 * well under a millisecond with a few hundred loop iterations; the defaults leave room for long
 * conversations and stop a hostile template within seconds.
 *
 * @param maxOutputChars longest rendered text (and longest string built on the way)
 * @param maxLoopIterations loop iterations over the whole render, nested loops included
 * @param maxMacroDepth deepest macro recursion
 * @param maxRenderMillis wall-clock time for one render
 */
public record ChatTemplateLimits(
    long maxOutputChars, long maxLoopIterations, int maxMacroDepth, long maxRenderMillis) {

  public static final ChatTemplateLimits DEFAULT =
      new ChatTemplateLimits(512 * 1024, 1_000_000, 32, 5_000);

  public ChatTemplateLimits {
    if (maxOutputChars < 1 || maxLoopIterations < 1 || maxMacroDepth < 1 || maxRenderMillis < 1) {
      throw new IllegalArgumentException("chat template limits must be positive");
    }
  }
}
