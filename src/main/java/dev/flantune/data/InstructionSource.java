package dev.flantune.data;

import dev.flantune.tasks.Example;
import dev.flantune.tasks.Rendered;
import dev.flantune.tasks.Renderer;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.TaskRegistry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The instruction-tuning stream: mixture epochs (held-out clusters excluded) → rendered (prompt,
 * target) → tokenized with the loss on target + EOS → packed or padded batches. Endless: epoch
 * after epoch, each a new window of every task's permutation.
 *
 * <p>Resume: {@link #seek} rebuilds the stream and replays {@code position} batches without running
 * the model. The stream is a pure function of the seed, so the replay reproduces it exactly; its
 * cost is rendering and tokenizing what was already consumed (tens of thousands of examples per
 * second), small next to training.
 */
public final class InstructionSource implements BatchSource {
  private final Mixture mixture;
  private final Renderer renderer;
  private final ExampleTokenizer tokenizer;
  private final int rows;
  private final int length;
  private final boolean packing;
  private final Truncation truncation = new Truncation();
  private final String fingerprint;
  private Iterator<Batch> batches;
  private long position;

  public InstructionSource(
      Mixture mixture,
      Renderer renderer,
      ExampleTokenizer tokenizer,
      int rows,
      int length,
      boolean packing,
      String fingerprint) {
    this.mixture = mixture;
    this.renderer = renderer;
    this.tokenizer = tokenizer;
    this.rows = rows;
    this.length = length;
    this.packing = packing;
    this.fingerprint = fingerprint;
    seek(0);
  }

  @Override
  public Batch next() {
    position++;
    return batches.next();
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void seek(long target) {
    Iterator<TokenizedExample> examples = new Examples();
    batches =
        packing
            ? Batcher.packed(examples, rows, length, tokenizer.eosId())
            : Batcher.padded(examples, rows, length, tokenizer.eosId());
    for (position = 0; position < target; position++) batches.next();
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }

  /** Prompts truncated or examples skipped so far (reported, never silent). */
  public Truncation truncation() {
    return truncation;
  }

  /**
   * Tokenized training examples, epoch after epoch, forever. Examples are rendered in chunks and
   * tokenized with one batched call per chunk (about twice as fast as one by one, same ids).
   */
  private final class Examples implements Iterator<TokenizedExample> {
    private static final int CHUNK = 256;
    private int epochIndex = -1;
    private Mixture.Epoch epoch;
    private final java.util.ArrayDeque<TokenizedExample> ready = new java.util.ArrayDeque<>();

    @Override
    public boolean hasNext() {
      while (ready.isEmpty()) {
        List<Rendered> chunk = new ArrayList<>(CHUNK);
        while (chunk.size() < CHUNK) {
          if (epoch == null || !epoch.hasNext()) {
            if (epoch != null) epoch.close();
            epoch = mixture.epoch(++epochIndex, 0);
            if (!epoch.hasNext()) throw new IllegalStateException("the mixture has an empty epoch");
            if (!chunk.isEmpty()) break; // chunks never span epochs
          }
          Example ex = epoch.next();
          chunk.add(renderer.render(epoch.taskOf(ex), ex));
        }
        for (Optional<TokenizedExample> t : tokenizer.tokenizeAll(chunk, truncation))
          t.ifPresent(ready::add);
      }
      return true;
    }

    @Override
    public TokenizedExample next() {
      if (!hasNext()) throw new NoSuchElementException();
      return ready.removeFirst();
    }
  }

  /**
   * Held-in validation batches: up to {@code count} examples from the validation splits of the
   * training tasks, taken round-robin across tasks, each rendered with its seeded template.
   */
  public static List<Batch> validation(
      TaskRegistry registry,
      Mixture mixture,
      Renderer renderer,
      ExampleTokenizer tokenizer,
      int count,
      int rows,
      int length) {
    List<List<Example>> perTask = new ArrayList<>();
    List<Task> tasks = new ArrayList<>();
    int each = Math.max(1, (count + mixture.entries().size() - 1) / mixture.entries().size());
    for (Mixture.Entry e : mixture.entries()) {
      Task t = e.task();
      if (!t.hasSplit(Task.Split.VALIDATION)) continue;
      perTask.add(t.split(Task.Split.VALIDATION).first(each));
      tasks.add(t);
    }
    List<TokenizedExample> picked = new ArrayList<>();
    Truncation stats = new Truncation();
    for (int i = 0; picked.size() < count; i++) {
      boolean any = false;
      for (int t = 0; t < perTask.size() && picked.size() < count; t++) {
        if (i >= perTask.get(t).size()) continue;
        any = true;
        Rendered r = renderer.render(tasks.get(t), perTask.get(t).get(i));
        tokenizer.tokenize(r, stats).ifPresent(picked::add);
      }
      if (!any) break;
    }
    List<Batch> out = new ArrayList<>();
    Iterator<Batch> it = Batcher.padded(picked.iterator(), rows, length, tokenizer.eosId());
    while (it.hasNext()) out.add(it.next());
    return out;
  }
}
