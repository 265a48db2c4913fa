package dev.flantune.chat;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.time.LocalDateTime;

/**
 * The state of one render, seen by the engine hooks (every node rendered, every loop started) and
 * by the template functions. It counts loop iterations against the budget, watches the clock, and
 * remembers the first sandbox violation or {@code raise_exception}: the engine turns exceptions
 * inside expressions into soft errors and carries on, so the guard is where the render's real
 * outcome is kept. Once tripped, every later node fails at once, so a tripped render ends quickly.
 */
final class RenderGuard {
  private static final ThreadLocal<RenderGuard> CURRENT = new ThreadLocal<>();

  private final ChatTemplateLimits limits;
  private final LocalDateTime now;
  private final long deadlineNanos;
  private long iterations;
  private volatile String failure;
  private volatile int failureLine;

  private RenderGuard(ChatTemplateLimits limits, LocalDateTime now) {
    this.limits = limits;
    this.now = now;
    this.deadlineNanos = System.nanoTime() + limits.maxRenderMillis() * 1_000_000L;
  }

  /** Installs a fresh guard on the calling (rendering) thread. */
  static RenderGuard begin(ChatTemplateLimits limits, LocalDateTime now) {
    RenderGuard guard = new RenderGuard(limits, now);
    CURRENT.set(guard);
    return guard;
  }

  static void end() {
    CURRENT.remove();
  }

  static RenderGuard current() {
    RenderGuard guard = CURRENT.get();
    if (guard == null) throw new IllegalStateException("chat template rendered outside a guard");
    return guard;
  }

  LocalDateTime now() {
    return now;
  }

  /** The first violation or raised message, or null when the render may be trusted. */
  String failure() {
    return failure;
  }

  /**
   * Called before every node the engine renders. Every macro call and loop opens a scope, so the
   * scope depth bounds macro recursion (jinjava's own limit only logs a warning and carries on).
   */
  void checkNode(JinjavaInterpreter interpreter) {
    checkNode();
    int depth = 0;
    for (Context c = interpreter.getContext(); c != null; c = c.getParent()) depth++;
    if (depth > limits.maxMacroDepth()) {
      trip("macros or loops nested deeper than " + limits.maxMacroDepth() + " (a recursive macro)");
    }
  }

  void checkNode() {
    if (failure != null) throw new Violation(failure);
    if (System.nanoTime() > deadlineNanos) {
      trip("render time limit of " + limits.maxRenderMillis() + " ms exceeded");
    }
  }

  /** Called when a loop starts, with its length: nested loops are charged once per inner run. */
  void chargeLoop(long length) {
    checkNode();
    iterations += Math.max(length, 0);
    if (iterations > limits.maxLoopIterations()) {
      trip(
          "'for' loops ran more than "
              + limits.maxLoopIterations()
              + " iterations (a runaway loop)");
    }
  }

  /** Called by {@code raise_exception(message)}: the template's own refusal. */
  void raised(String message) {
    trip("template raised: " + message);
  }

  int failureLine() {
    return failureLine;
  }

  void trip(String message) {
    if (failure == null) {
      failure = message;
      failureLine = ChatTemplate.currentLine();
    }
    throw new Violation(failure);
  }

  /** Thrown through the engine to stop the render; the message is in {@link #failure()}. */
  static final class Violation extends RuntimeException {
    Violation(String message) {
      super(message, null, false, false);
    }
  }
}
