package dev.flantune.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The project's tokenizer: Hugging Face's Rust tokenizers (through DJL) over a {@code
 * tokenizer.json}, or over GPT-2's original {@code vocab.json} + {@code merges.txt}, which are
 * converted to an equivalent {@code tokenizer.json} in memory.
 *
 * <p>Traps handled here: DJL truncates to 512 tokens by default (we turn truncation off), and it
 * adds special tokens unless told not to (we never add them: callers add BOS and EOS explicitly, as
 * {@link #specialTokens} says, so a prompt and its target can be tokenized separately).
 */
public final class Tokenizer implements AutoCloseable {
  public static final String TOKENIZER_JSON = "tokenizer.json";
  public static final String VOCAB_JSON = "vocab.json";
  public static final String MERGES_TXT = "merges.txt";

  private final HuggingFaceTokenizer hf;
  private final Path source;
  private final SpecialTokens special;
  private final int vocabSize;

  private Tokenizer(HuggingFaceTokenizer hf, Path source, SpecialTokens special, int vocabSize) {
    this.hf = hf;
    this.source = source;
    this.special = special;
    this.vocabSize = vocabSize;
  }

  /**
   * Loads {@code tokenizer.json} from a file, or the tokenizer files of a checkpoint directory,
   * with the special tokens of the directory that holds them ({@link SpecialTokens}).
   */
  public static Tokenizer load(Path path) {
    System.setProperty("ai.djl.offline", "true");
    TokenizerFiles files = TokenizerFiles.of(path);
    HuggingFaceTokenizer hf;
    try {
      hf =
          HuggingFaceTokenizer.newInstance(
              new java.io.ByteArrayInputStream(
                  files.json.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
              Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    } catch (IOException | RuntimeException e) {
      throw FlanTuneException.badInput(
          files.source + ": not a valid Hugging Face tokenizer (" + firstLine(e.getMessage()) + ")",
          e);
    }
    try {
      SpecialTokens.Vocabulary vocab = TokenizerJson.vocabulary(files.json, files.source);
      return new Tokenizer(hf, files.source, SpecialTokens.read(files.dir, vocab), vocab.size());
    } catch (RuntimeException e) {
      hf.close();
      throw e;
    }
  }

  /** The special tokens of a tokenizer's directory, without loading the native tokenizer. */
  static SpecialTokens specialTokensOf(Path path) {
    TokenizerFiles files = TokenizerFiles.of(path);
    return SpecialTokens.read(files.dir, TokenizerJson.vocabulary(files.json, files.source));
  }

  /** A tokenizer's JSON text, the file it came from, and the directory of its companion files. */
  private record TokenizerFiles(String json, Path source, Path dir) {
    static TokenizerFiles of(Path path) {
      Path json = path;
      if (Files.isDirectory(path)) {
        json = path.resolve(TOKENIZER_JSON);
        if (!Files.exists(json)) {
          Path vocab = path.resolve(VOCAB_JSON);
          Path merges = path.resolve(MERGES_TXT);
          if (Files.exists(vocab) && Files.exists(merges)) {
            return new TokenizerFiles(TokenizerJson.toTokenizerJson(vocab, merges), vocab, path);
          }
          throw FlanTuneException.badInput(
              path + ": no tokenizer found; put tokenizer.json (or vocab.json + merges.txt) in it");
        }
      }
      if (!Files.isRegularFile(json)) {
        throw FlanTuneException.badInput(
            json + ": tokenizer file not found; pass a tokenizer.json");
      }
      try {
        Path dir = json.toAbsolutePath().getParent();
        return new TokenizerFiles(Files.readString(json), json, dir);
      } catch (IOException e) {
        throw FlanTuneException.badInput(
            json + ": cannot read tokenizer (" + e.getMessage() + ")", e);
      }
    }
  }

  private static String firstLine(String s) {
    if (s == null) return "unknown error";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** Token ids of {@code text}, with no special tokens added and no truncation. */
  public int[] encode(String text) {
    if (text.isEmpty()) return new int[0];
    Encoding enc = hf.encode(text, false, false);
    long[] ids = enc.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) out[i] = (int) ids[i];
    return out;
  }

  /**
   * Token ids of each text, exactly as {@link #encode} gives them, in one native call that the Rust
   * side runs in parallel. It goes to DJL's JNI layer directly and asks only for the ids: building
   * DJL's {@code Encoding} (tokens as strings, offsets, masks: about ten JNI calls per text) costs
   * more than the tokenization itself. Disabling truncation and padding at load still applies,
   * because those settings live on the native tokenizer.
   */
  public int[][] encodeBatch(java.util.List<String> texts) {
    int[][] out = new int[texts.size()][];
    java.util.List<String> nonEmpty = new java.util.ArrayList<>(texts.size());
    for (String t : texts) if (!t.isEmpty()) nonEmpty.add(t);
    long[] encodings =
        nonEmpty.isEmpty()
            ? new long[0]
            : TokenizersLibrary.LIB.batchEncode(
                hf.getHandle(), nonEmpty.toArray(new String[0]), false);
    try {
      int j = 0;
      for (int i = 0; i < out.length; i++) {
        if (texts.get(i).isEmpty()) {
          out[i] = new int[0];
          continue;
        }
        long[] ids = TokenizersLibrary.LIB.getTokenIds(encodings[j++]);
        int[] row = new int[ids.length];
        for (int k = 0; k < ids.length; k++) row[k] = (int) ids[k];
        out[i] = row;
      }
    } finally {
      for (long e : encodings) TokenizersLibrary.LIB.deleteEncoding(e);
    }
    return out;
  }

  /** The text of {@code ids}, special tokens kept. */
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) l[i] = ids[i];
    return hf.decode(l, false);
  }

  /**
   * The EOS appended after training targets ({@code <|endoftext|>} for GPT-2), or -1 if none; see
   * {@link SpecialTokens} for where it comes from.
   */
  public int eosId() {
    return special.eosId();
  }

  /** BOS, EOS, the ids that stop generation, and the chat template of this tokenizer's model. */
  public SpecialTokens specialTokens() {
    return special;
  }

  public int vocabSize() {
    return vocabSize;
  }

  public Path source() {
    return source;
  }

  @Override
  public void close() {
    hf.close();
  }
}
