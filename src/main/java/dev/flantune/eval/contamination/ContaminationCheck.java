package dev.flantune.eval.contamination;

import dev.flantune.tasks.Example;
import dev.flantune.tasks.Task;
import dev.flantune.tasks.Template;
import dev.flantune.util.FlanTuneException;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Finds held-out examples whose text also occurs in training text, by word n-grams (n = 13 by
 * default, as GPT-3 and FLAN did). The held-out side is small (hundreds of examples), the training
 * side large (a task collection, a pretraining corpus), so only the held-out grams are stored, in a
 * {@link LongHashSet}, and every source is streamed past them once: memory grows with the held-out
 * set, not with the corpus.
 *
 * <p>Rule: an example's text is the values of its input fields in field-name order, then its
 * answer. With L words, its grams have m = min(n, L) words, so an example shorter than n words
 * counts as contaminated only when all of it occurs in a source. Sources are split into grams the
 * same way: a task example's fields in field-name order, a text file as one stream of words.
 */
public final class ContaminationCheck {
  private final int n;
  private final List<long[]> exampleKeys = new ArrayList<>();
  private final LongHashSet wanted = new LongHashSet(1 << 12);
  private final boolean[] sizes;
  private int[] sizeList = new int[0];
  private final Map<String, LongHashSet> hits = new TreeMap<>();
  private long peakBytes;

  public ContaminationCheck(int n) {
    if (n < 1) throw FlanTuneException.badUsage("--contamination-ngram must be >= 1, got " + n);
    this.n = n;
    this.sizes = new boolean[n + 1];
  }

  public int ngram() {
    return n;
  }

  /** The text an example is judged by: its input fields in field-name order, then its answer. */
  public static String text(Example e) {
    TreeMap<String, String> fields = new TreeMap<>(e.fields());
    String answer = fields.remove(Template.ANSWER);
    StringBuilder sb = new StringBuilder();
    for (String v : fields.values()) sb.append(v).append('\n');
    return answer == null ? sb.toString() : sb.append(answer).toString();
  }

  /** Registers one held-out example; returns its id for {@link #matched}. */
  public int add(String text) {
    List<Long> words = new ArrayList<>();
    WordNgrams.words(text, words::add);
    int m = Math.min(n, words.size());
    long[] keys = new long[Math.max(0, words.size() - m + 1)];
    if (m > 0) {
      WordNgrams.Stream s = new WordNgrams.Stream(m);
      int k = 0;
      for (long w : words) {
        s.push(w);
        if (s.has(m)) keys[k++] = s.key(m);
      }
      for (long key : keys) wanted.add(key);
      if (!sizes[m]) {
        sizes[m] = true;
        sizeList = java.util.stream.IntStream.rangeClosed(1, n).filter(i -> sizes[i]).toArray();
      }
    } else {
      keys = new long[0];
    }
    exampleKeys.add(keys);
    return exampleKeys.size() - 1;
  }

  /**
   * Streams the train split of each task (every example, not only those a run drew) as source
   * {@code name}; returns the words read.
   */
  public long scanTasks(String name, List<Task> tasks) {
    LongHashSet hit = hitSet(name);
    WordNgrams.Stream s = new WordNgrams.Stream(n);
    long[] words = {0};
    for (Task t : tasks) {
      if (!t.hasSplit(Task.Split.TRAIN)) continue;
      t.split(Task.Split.TRAIN)
          .forEach(
              e -> {
                s.reset();
                WordNgrams.words(text(e), w -> words[0] += push(s, w, hit));
              });
    }
    track();
    return words[0];
  }

  /** Streams UTF-8 text files as source {@code name}; returns the words read. */
  public long scanFiles(String name, List<Path> files) {
    LongHashSet hit = hitSet(name);
    WordNgrams.Stream s = new WordNgrams.Stream(n);
    long[] words = {0};
    for (Path f : files) {
      s.reset();
      try (BufferedReader r = Files.newBufferedReader(f)) {
        for (String line = r.readLine(); line != null; line = r.readLine())
          WordNgrams.words(line, w -> words[0] += push(s, w, hit));
      } catch (IOException e) {
        throw FlanTuneException.badInput(f + ": cannot read (" + e.getMessage() + ")", e);
      }
    }
    track();
    return words[0];
  }

  private int push(WordNgrams.Stream s, long word, LongHashSet hit) {
    s.push(word);
    for (int m : sizeList) {
      if (!s.has(m)) break;
      long key = s.key(m);
      if (wanted.contains(key)) hit.add(key);
    }
    return 1;
  }

  private LongHashSet hitSet(String name) {
    return hits.computeIfAbsent(name, k -> new LongHashSet(1 << 10));
  }

  private void track() {
    long b = wanted.bytes();
    for (LongHashSet h : hits.values()) b += h.bytes();
    for (long[] k : exampleKeys) b += 8L * k.length;
    peakBytes = Math.max(peakBytes, b);
  }

  /** Whether example {@code id} shares a gram with source {@code name}. */
  public boolean matched(int id, String name) {
    LongHashSet hit = hits.get(name);
    if (hit == null || hit.size() == 0) return false;
    for (long k : exampleKeys.get(id)) if (hit.contains(k)) return true;
    return false;
  }

  /** Whether example {@code id} shares a gram with any source scanned. */
  public boolean matchedAny(int id) {
    for (String name : hits.keySet()) if (matched(id, name)) return true;
    return false;
  }

  /** Memory held by the hash sets and example keys at their largest, in bytes. */
  public long peakBytes() {
    return peakBytes;
  }
}
