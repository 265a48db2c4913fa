package dev.flantune.data;

import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Plain-text causal-LM data: text files tokenized into one token stream (documents, separated by
 * blank lines, each {@code [bos]? ++ ids(doc) ++ [eos]}), cut into windows of T + 1 tokens at
 * stride T. Every token is in the loss. Epochs visit the windows in a seeded permutation, so any
 * position can be sought in O(1).
 *
 * <p>BOS, for models that use one, starts every document as it starts every sequence at inference;
 * windows are cut at any token, so a window begins with BOS only when a document does. Keeping
 * every token in the loss means the EOS → BOS step is trained too: it is certain, costs nothing
 * once learned, and keeps causal_lm free of masks.
 */
public final class TextWindows implements BatchSource {
  private final int[] tokens;
  private final int length;
  private final int rows;
  private final long seed;
  private final String fingerprint;
  private final int windows;
  private long position;
  private long permEpoch = -1;
  private int[] perm;

  public TextWindows(int[] tokens, int length, int rows, long seed, String fingerprint) {
    this.tokens = tokens;
    this.length = length;
    this.rows = rows;
    this.seed = seed;
    this.fingerprint = fingerprint;
    this.windows = (tokens.length - 1) / length;
    if (windows < 1)
      throw FlanTuneException.badInput(
          "text data has " + tokens.length + " tokens, fewer than one window of " + (length + 1));
  }

  /** Tokenizes files: blank-line-separated documents, each after BOS (if used) and before EOS. */
  public static Tokenized tokenize(List<Path> files, Tokenizer tok) {
    List<int[]> parts = new ArrayList<>();
    long total = 0;
    MessageDigest sha = sha256();
    for (Path f : files) {
      String text;
      try {
        byte[] bytes = Files.readAllBytes(f);
        sha.update(bytes);
        text = new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw FlanTuneException.badInput(f + ": cannot read (" + e.getMessage() + ")");
      }
      for (String doc : text.split("\\n\\s*\\n")) {
        if (doc.isBlank()) continue;
        int[] ids = tok.specialTokens().withBos(tok.encode(doc.strip()));
        parts.add(ids);
        parts.add(new int[] {tok.eosId()});
        total += ids.length + 1;
      }
    }
    int[] all = new int[Math.toIntExact(total)];
    int at = 0;
    for (int[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return new Tokenized(all, HexFormat.of().formatHex(sha.digest()));
  }

  public record Tokenized(int[] tokens, String sha256) {}

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public int windowCount() {
    return windows;
  }

  @Override
  public Batch next() {
    int[] windowsOfRows = new int[rows];
    for (int r = 0; r < rows; r++) windowsOfRows[r] = windowAt(position * rows + r);
    position++;
    return batchOf(windowsOfRows);
  }

  /** One row per window: tokens [w·T, w·T + T) in, the next token of each as its label. */
  private Batch batchOf(int[] windowsOfRows) {
    int b = windowsOfRows.length, n = b * length;
    int[] ids = new int[n], pos = new int[n], seg = new int[n], labels = new int[n];
    float[] mask = new float[n];
    for (int r = 0; r < b; r++) {
      int start = windowsOfRows[r] * length;
      for (int t = 0; t < length; t++) {
        int i = r * length + t;
        ids[i] = tokens[start + t];
        labels[i] = tokens[start + t + 1];
        pos[i] = t;
        seg[i] = 1;
        mask[i] = 1f;
      }
    }
    return new Batch(b, length, ids, pos, seg, labels, mask);
  }

  /** The window of the k-th row overall: epoch k / W, shuffled by a per-epoch permutation. */
  private int windowAt(long k) {
    long epoch = k / windows;
    if (epoch != permEpoch) {
      perm = permutation(windows, new SplittableRandom(seed * 1_000_003L + epoch));
      permEpoch = epoch;
    }
    return perm[(int) (k % windows)];
  }

  static int[] permutation(int n, SplittableRandom rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** The first {@code count} windows in order, as batches of {@code rows} (validation). */
  public List<Batch> firstWindows(int count) {
    List<Batch> out = new ArrayList<>();
    int total = Math.min(count, windows);
    for (int start = 0; start < total; start += rows) {
      int[] w = new int[Math.min(rows, total - start)];
      for (int r = 0; r < w.length; r++) w[r] = start + r;
      out.add(batchOf(w));
    }
    return out;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public void seek(long position) {
    this.position = position;
  }

  @Override
  public String fingerprint() {
    return fingerprint;
  }
}
