package dev.flantune.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A model directory's special tokens: which BOS goes at the start of a sequence, which EOS ends a
 * training target, which ids stop generation, and the raw chat template.
 *
 * <p>Sources, in order of authority: {@code tokenizer_config.json} ({@code add_bos_token}, {@code
 * bos_token}/{@code eos_token}/{@code pad_token} each a string or an object with {@code content},
 * {@code chat_template}), {@code generation_config.json} ({@code eos_token_id} an int or a list,
 * {@code bos_token_id}), {@code config.json} (the same ids, as a fallback) and the {@code
 * tokenizer.json} post-processor (a template that prepends a special token, as Llama 3's and
 * TinyLlama's do). The rules:
 *
 * <ul>
 *   <li>BOS is used iff {@code add_bos_token} is true, or, the key absent, the post-processor
 *       prepends a special token.
 *   <li>The EOS appended after training targets is {@code tokenizer_config.json}'s {@code
 *       eos_token}; else {@code generation_config.json}'s first {@code eos_token_id}; else {@code
 *       config.json}'s; else {@code <|endoftext|>} (GPT-2, which ships none of these files).
 *   <li>Generation stops at any of {@link #eosIds}: that EOS and every {@code eos_token_id} of
 *       {@code generation_config.json} (Llama 3 instruct ends turns with {@code <|eot_id|>} but
 *       names {@code <|end_of_text|>} too).
 * </ul>
 *
 * <p>Absent tokens are the empty string and id -1, so a chat-template renderer can pass {@link
 * #bosToken} and {@link #eosToken} straight through as template variables.
 *
 * @param bosToken the BOS token's text ("" if the model has none)
 * @param bosId the BOS token's id (-1 if none); known even when {@link #addBos} is false
 * @param addBos whether every sequence starts with BOS
 * @param eosToken the EOS token's text ("" if none)
 * @param eosId the EOS appended after training targets (-1 if none)
 * @param eosIds the ids that stop generation, {@code eosId} first (empty if none)
 * @param padToken the pad token's text ("" if none); flan-tune's batches do not need it
 * @param chatTemplate the Jinja chat template, raw (the "default" one when several are named)
 */
public record SpecialTokens(
    String bosToken,
    int bosId,
    boolean addBos,
    String eosToken,
    int eosId,
    Set<Integer> eosIds,
    String padToken,
    Optional<String> chatTemplate) {

  public static final String TOKENIZER_CONFIG = "tokenizer_config.json";
  public static final String GENERATION_CONFIG = "generation_config.json";
  public static final String CONFIG = "config.json";
  public static final String CHAT_TEMPLATE_JINJA = "chat_template.jinja";

  /**
   * The files beside {@code tokenizer.json} that this reader consults (config.json aside, which a
   * checkpoint writes itself): a saved checkpoint must carry them, or its BOS, EOS and stop ids
   * change on reload.
   */
  public static final List<String> COMPANION_FILES =
      List.of(TOKENIZER_CONFIG, GENERATION_CONFIG, CHAT_TEMPLATE_JINJA);

  /** GPT-2's end-of-text token, the EOS when no file names one. */
  static final String GPT2_EOS = "<|endoftext|>";

  private static final ObjectMapper JSON = new ObjectMapper();

  public SpecialTokens {
    eosIds = Collections.unmodifiableSet(new LinkedHashSet<>(eosIds));
    if (addBos && bosId < 0) throw new IllegalArgumentException("addBos without a BOS id");
  }

  /**
   * The special tokens of a checkpoint or tokenizer directory (or of the directory holding a given
   * {@code tokenizer.json}); token strings are resolved to ids through its tokenizer files.
   */
  public static SpecialTokens read(Path dirOrTokenizerJson) {
    return Tokenizer.specialTokensOf(dirOrTokenizerJson);
  }

  /** The id put at the start of every sequence, or -1 when the model uses no BOS. */
  public int prependedBos() {
    return addBos ? bosId : -1;
  }

  /** {@code ids} with BOS in front when the model uses one (a copy), else {@code ids} itself. */
  public int[] withBos(int[] ids) {
    if (!addBos) return ids;
    int[] out = new int[ids.length + 1];
    out[0] = bosId;
    System.arraycopy(ids, 0, out, 1, ids.length);
    return out;
  }

  /** Whether generation stops at {@code id}. */
  public boolean stopsAt(int id) {
    return eosIds.contains(id);
  }

  /** Token text ↔ id lookups over a tokenizer's vocabulary and added tokens. */
  interface Vocabulary {
    /** The id of {@code token}, or -1 if the tokenizer does not know it. */
    int idOf(String token);

    /** The text of {@code id}, or "" if none. */
    String tokenOf(int id);

    int size();

    /** The special token the post-processor puts before a single sequence, or "" if none. */
    String prependedByPostProcessor();
  }

  /** Reads the files next to the tokenizer in {@code dir}; {@code vocab} resolves token strings. */
  static SpecialTokens read(Path dir, Vocabulary vocab) {
    JsonNode tc = readJson(dir.resolve(TOKENIZER_CONFIG));
    JsonNode gc = readJson(dir.resolve(GENERATION_CONFIG));
    JsonNode mc = readJson(dir.resolve(CONFIG));
    Path tcFile = dir.resolve(TOKENIZER_CONFIG);

    // BOS: the token, its id, and whether it is used.
    String bosToken = tokenText(tc, "bos_token", tcFile);
    String postBos = vocab.prependedByPostProcessor();
    if (bosToken == null) bosToken = postBos.isEmpty() ? null : postBos;
    int bosId;
    if (bosToken != null) {
      bosId = idOrFail(vocab, bosToken, tcFile, "bos_token");
    } else {
      bosId = firstId(gc, "bos_token_id", dir.resolve(GENERATION_CONFIG), vocab);
      if (bosId < 0) bosId = firstId(mc, "bos_token_id", dir.resolve(CONFIG), vocab);
      bosToken = bosId < 0 ? "" : vocab.tokenOf(bosId);
    }
    boolean addBos;
    JsonNode add = tc == null ? null : tc.get("add_bos_token");
    if (add != null && !add.isNull()) {
      if (!add.isBoolean())
        throw FlanTuneException.badInput(
            tcFile + ": 'add_bos_token' must be true or false, got " + add);
      addBos = add.asBoolean();
    } else {
      addBos = !postBos.isEmpty();
    }
    if (addBos && bosId < 0) {
      throw FlanTuneException.badInput(
          tcFile + ": 'add_bos_token' is true but no 'bos_token' is given; add one");
    }

    // EOS: the one appended after targets, and every id that stops generation.
    Path gcFile = dir.resolve(GENERATION_CONFIG);
    Set<Integer> genEos = ids(gc, "eos_token_id", gcFile, vocab);
    String eosToken = tokenText(tc, "eos_token", tcFile);
    int eosId;
    if (eosToken != null) {
      eosId = idOrFail(vocab, eosToken, tcFile, "eos_token");
    } else {
      eosId = genEos.isEmpty() ? -1 : genEos.iterator().next();
      if (eosId < 0) eosId = firstId(mc, "eos_token_id", dir.resolve(CONFIG), vocab);
      if (eosId < 0) eosId = vocab.idOf(GPT2_EOS);
      eosToken = eosId < 0 ? "" : vocab.tokenOf(eosId);
    }
    Set<Integer> stop = new LinkedHashSet<>();
    if (eosId >= 0) stop.add(eosId);
    stop.addAll(genEos);

    String pad = tokenText(tc, "pad_token", tcFile);
    if (pad != null) idOrFail(vocab, pad, tcFile, "pad_token");
    return new SpecialTokens(
        bosToken,
        bosId,
        addBos,
        eosToken,
        eosId,
        stop,
        pad == null ? "" : pad,
        chatTemplate(tc, tcFile, dir.resolve(CHAT_TEMPLATE_JINJA)));
  }

  /** The parsed file, or null when it does not exist. */
  private static JsonNode readJson(Path file) {
    if (!Files.isRegularFile(file)) return null;
    try {
      JsonNode n = JSON.readTree(file.toFile());
      if (n == null || !n.isObject())
        throw FlanTuneException.badInput(file + ": expected a JSON object");
      return n;
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          file + ": not valid JSON (" + firstLine(e.getMessage()) + "); fix or remove the file", e);
    }
  }

  /** A token given as a string or as an object with {@code content}; null if absent or null. */
  private static String tokenText(JsonNode root, String key, Path file) {
    JsonNode n = root == null ? null : root.get(key);
    if (n == null || n.isNull()) return null;
    if (n.isTextual()) return n.asText();
    if (n.isObject() && n.path("content").isTextual()) return n.get("content").asText();
    throw FlanTuneException.badInput(
        file + ": '" + key + "' must be a string or an object with a string 'content', got " + n);
  }

  private static int idOrFail(Vocabulary vocab, String token, Path file, String key) {
    int id = vocab.idOf(token);
    if (id < 0) {
      throw FlanTuneException.badInput(
          file + ": '" + key + "' " + quote(token) + " is not a token of the tokenizer");
    }
    return id;
  }

  /** An id field that is an int or a list of ints, in order; empty if absent or null. */
  private static Set<Integer> ids(JsonNode root, String key, Path file, Vocabulary vocab) {
    Set<Integer> out = new LinkedHashSet<>();
    JsonNode n = root == null ? null : root.get(key);
    if (n == null || n.isNull()) return out;
    if (n.isArray()) {
      for (JsonNode e : n) out.add(checkedId(e, key, file, vocab));
    } else {
      out.add(checkedId(n, key, file, vocab));
    }
    return out;
  }

  private static int firstId(JsonNode root, String key, Path file, Vocabulary vocab) {
    Set<Integer> ids = ids(root, key, file, vocab);
    return ids.isEmpty() ? -1 : ids.iterator().next();
  }

  private static int checkedId(JsonNode n, String key, Path file, Vocabulary vocab) {
    if (!n.canConvertToInt() || !n.isIntegralNumber()) {
      throw FlanTuneException.badInput(
          file + ": '" + key + "' must be an integer or a list of integers, got " + n);
    }
    int id = n.asInt();
    if (id < 0 || id >= vocab.size()) {
      throw FlanTuneException.badInput(
          file
              + ": '"
              + key
              + "' "
              + id
              + " is outside the tokenizer's vocabulary (0.."
              + (vocab.size() - 1)
              + ")");
    }
    return id;
  }

  /**
   * {@code chat_template} as a string, or the "default" of a list of {name, template}; else the
   * {@code chat_template.jinja} file that newer checkpoints ship beside the config.
   */
  private static Optional<String> chatTemplate(JsonNode tc, Path file, Path jinja) {
    JsonNode n = tc == null ? null : tc.get("chat_template");
    if (n != null && !n.isNull()) {
      if (n.isTextual()) return Optional.of(n.asText());
      if (n.isArray()) {
        for (JsonNode t : n) {
          if (!t.path("name").isTextual() || !t.path("template").isTextual()) {
            throw FlanTuneException.badInput(
                file + ": 'chat_template' list entries must be {\"name\", \"template\"} strings");
          }
          if (t.get("name").asText().equals("default"))
            return Optional.of(t.get("template").asText());
        }
        return Optional.empty();
      }
      throw FlanTuneException.badInput(
          file + ": 'chat_template' must be a string or a list of {name, template}");
    }
    if (Files.isRegularFile(jinja)) {
      try {
        return Optional.of(Files.readString(jinja));
      } catch (IOException e) {
        throw FlanTuneException.badInput(jinja + ": cannot read (" + e.getMessage() + ")", e);
      }
    }
    return Optional.empty();
  }

  private static String quote(String token) {
    return "'" + token.replace("\n", "\\n") + "'";
  }

  private static String firstLine(String s) {
    if (s == null) return "unknown error";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
