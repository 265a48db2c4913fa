package dev.flantune.checkpoint;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.tokenizer.Tokenizer;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A checkpoint directory in Hugging Face layout: {@code config.json}, weights in {@code
 * model.safetensors} or shards listed by {@code model.safetensors.index.json}, and the tokenizer
 * files. Names and shapes are validated against the {@link TensorTable} the caller hands in (the
 * model reads config.json and knows its family; this package does not). Pickled {@code .bin}
 * weights are refused, never unpickled.
 */
public record HfCheckpoint(Path dir, Map<String, Tensor> weights, DType storedAs) {
  public static final String CONFIG = "config.json";
  public static final String WEIGHTS = "model.safetensors";
  public static final String INDEX = "model.safetensors.index.json";

  static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /** Loads and validates a checkpoint directory, every weight read into memory. */
  public static HfCheckpoint load(Path dir, TensorTable table) {
    Layout layout = open(dir, table);
    Map<String, Tensor> weights = new LinkedHashMap<>();
    layout.tensors().forEach((name, t) -> weights.put(name, t.read()));
    return new HfCheckpoint(dir, weights, layout.storedAs());
  }

  /** Where one weight lives: a tensor entry of a safetensors file. */
  public record Stored(Path file, long dataStart, Safetensors.Entry entry) {
    public Tensor read() {
      return Safetensors.readTensor(file, dataStart, entry);
    }

    /** Streams the weight into {@code dst} from index {@code at} (fp32). */
    public void readInto(java.nio.FloatBuffer dst, int at) {
      Safetensors.readFloatsInto(file, dataStart, entry, dst, at);
    }

    /** Streams the weight, as fp32 chunks, to {@code sink}. */
    public void readInto(Safetensors.FloatSink sink) {
      Safetensors.readFloats(file, dataStart, entry, sink);
    }
  }

  /** A validated checkpoint whose weights are located but not read. */
  public record Layout(Path dir, Map<String, Stored> tensors, DType storedAs) {}

  /**
   * Reads every safetensors header and validates names and shapes against {@code table}, without
   * reading weights: a model can then be streamed into place.
   */
  public static Layout open(Path dir, TensorTable table) {
    checkDirectory(dir);
    Map<String, Stored> stored = new LinkedHashMap<>();
    Map<String, Path> origin = new LinkedHashMap<>();
    List<Path> files = weightFiles(dir);
    for (Path file : files) {
      Safetensors.Header header = Safetensors.readHeader(file);
      for (Safetensors.Entry e : header.entries().values()) {
        String name = table.canonical(e.name());
        if (name == null) continue;
        if (stored.containsKey(name)) {
          throw FlanTuneException.badInput(
              file
                  + ": tensor '"
                  + e.name()
                  + "' duplicates '"
                  + name
                  + "' from "
                  + origin.get(name)
                  + "; keep one of them");
        }
        stored.put(name, new Stored(file, header.dataStart(), e));
        origin.put(name, file);
      }
    }
    Path named = files.size() == 1 ? files.get(0) : dir.resolve(INDEX);
    Map<String, Stored> weights = validate(named, table, stored, origin);
    DType storedAs = weights.values().iterator().next().entry().dtype();
    return new Layout(dir, weights, storedAs);
  }

  /** Refuses a path that is not a directory, naming what a checkpoint holds. */
  public static void checkDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw FlanTuneException.badInput(
          dir + ": not a checkpoint directory (expected config.json + model.safetensors)");
    }
  }

  /** The safetensors files holding the weights, refusing pickles with a hint. */
  static List<Path> weightFiles(Path dir) {
    Path single = dir.resolve(WEIGHTS);
    Path index = dir.resolve(INDEX);
    if (Files.isRegularFile(index)) return shardsOf(dir, index);
    if (Files.isRegularFile(single)) return List.of(single);
    try (Stream<Path> files = Files.list(dir)) {
      List<Path> pickles =
          files.filter(f -> f.getFileName().toString().endsWith(".bin")).sorted().toList();
      if (!pickles.isEmpty()) {
        throw FlanTuneException.badInput(
            pickles.get(0)
                + ": PyTorch pickle weights are refused (unpickling can run code); convert to"
                + " safetensors first, e.g. in Python: from safetensors.torch import save_file;"
                + " save_file(torch.load(f), 'model.safetensors')");
      }
    } catch (IOException e) {
      throw FlanTuneException.badInput(dir + ": cannot list (" + e.getMessage() + ")");
    }
    throw FlanTuneException.badInput(
        dir + ": no model.safetensors or model.safetensors.index.json found");
  }

  private static List<Path> shardsOf(Path dir, Path index) {
    JsonNode map;
    try {
      map = JSON.readTree(index.toFile()).get("weight_map");
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          index + ": not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
    if (map == null || !map.isObject()) {
      throw FlanTuneException.badInput(
          index + ": 'weight_map' must be an object of tensor -> shard file");
    }
    Set<Path> shards = new LinkedHashSet<>();
    Path root = dir.toAbsolutePath().normalize();
    for (Iterator<Map.Entry<String, JsonNode>> it = map.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      Path shard = root.resolve(e.getValue().asText()).normalize();
      if (!shard.getParent().equals(root) || !e.getValue().isTextual()) {
        throw FlanTuneException.badInput(
            index
                + ": shard '"
                + e.getValue().asText()
                + "' of tensor '"
                + e.getKey()
                + "' must be a file name inside the checkpoint directory");
      }
      if (!Files.isRegularFile(shard)) {
        throw FlanTuneException.badInput(
            index
                + ": shard file "
                + shard.getFileName()
                + " (tensor '"
                + e.getKey()
                + "') is missing");
      }
      shards.add(shard);
    }
    return new ArrayList<>(shards);
  }

  private static Map<String, Stored> validate(
      Path weightsFile, TensorTable table, Map<String, Stored> stored, Map<String, Path> origin) {
    Map<String, long[]> expected = table.shapes();
    List<String> missing = new ArrayList<>();
    Map<String, Stored> out = new LinkedHashMap<>();
    for (Map.Entry<String, long[]> e : expected.entrySet()) {
      Stored st = stored.get(e.getKey());
      if (st == null) {
        missing.add(e.getKey());
        continue;
      }
      Safetensors.Entry t = st.entry();
      if (t.dtype() == DType.I32 || t.dtype() == DType.I64) {
        throw FlanTuneException.badInput(
            origin.get(e.getKey())
                + ": tensor '"
                + e.getKey()
                + "' is an integer tensor; weights must be F32, F16 or BF16");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw FlanTuneException.badInput(
            origin.get(e.getKey())
                + ": tensor '"
                + e.getKey()
                + "' has shape "
                + Arrays.toString(t.shape())
                + " but config.json implies "
                + Arrays.toString(e.getValue())
                + "; the config does not match the weights");
      }
      out.put(e.getKey(), st);
    }
    if (!missing.isEmpty()) {
      String hint =
          missing.contains("lm_head.weight")
              ? " (tie_word_embeddings is false, so lm_head.weight is required)"
              : "";
      throw FlanTuneException.badInput(
          weightsFile
              + ": missing tensor"
              + (missing.size() > 1 ? "s " : " ")
              + summarize(missing)
              + hint);
    }
    List<String> extra = new ArrayList<>(stored.keySet());
    extra.removeAll(expected.keySet());
    if (!extra.isEmpty()) {
      throw FlanTuneException.badInput(
          origin.get(extra.get(0))
              + ": unexpected tensor"
              + (extra.size() > 1 ? "s " : " ")
              + summarize(extra)
              + " for "
              + table.description()
              + "; check config.json");
    }
    return out;
  }

  private static String summarize(List<String> names) {
    return names.size() <= 4
        ? "'" + String.join("', '", names) + "'"
        : "'" + String.join("', '", names.subList(0, 4)) + "' and " + (names.size() - 4) + " more";
  }

  /**
   * Writes {@code weights} as a checkpoint in {@code dir} (created; existing files overwritten):
   * config.json, model.safetensors in {@code dtype}, and the tokenizer files copied from {@code
   * tokenizerSource} (a tokenizer.json or a directory holding tokenizer files), if given.
   */
  public static void save(
      Path dir,
      ObjectNode config,
      TensorTable table,
      Map<String, ? extends Safetensors.Source> weights,
      DType dtype,
      Path tokenizerSource)
      throws IOException {
    Files.createDirectories(dir);
    Map<String, Safetensors.Source> ordered = new LinkedHashMap<>();
    for (String name : table.shapes().keySet()) {
      Safetensors.Source t = weights.get(name);
      if (t == null) throw new IllegalArgumentException("no weights for " + name);
      ordered.put(name, t);
    }
    Safetensors.write(dir.resolve(WEIGHTS), ordered, dtype, Map.of("format", "pt"));
    JSON.writeValue(dir.resolve(CONFIG).toFile(), config);
    if (tokenizerSource != null) copyTokenizer(tokenizerSource, dir);
  }

  /**
   * The tokenizer files and their companions (special tokens, generation stop ids, chat template):
   * from a directory, or from beside a tokenizer.json file, so a saved model stops and prompts as
   * the model it came from did.
   */
  public static void copyTokenizer(Path source, Path dir) throws IOException {
    Path from = source;
    if (Files.isRegularFile(source)) {
      copyIfNew(source, dir.resolve(Tokenizer.TOKENIZER_JSON));
      from = source.toAbsolutePath().getParent();
    }
    List<String> files = new ArrayList<>();
    if (!Files.isRegularFile(source)) {
      files.addAll(List.of(Tokenizer.TOKENIZER_JSON, Tokenizer.VOCAB_JSON, Tokenizer.MERGES_TXT));
    }
    files.add("special_tokens_map.json");
    files.addAll(dev.flantune.tokenizer.SpecialTokens.COMPANION_FILES);
    for (String f : files) {
      Path src = from.resolve(f);
      if (Files.isRegularFile(src)) copyIfNew(src, dir.resolve(f));
    }
  }

  private static void copyIfNew(Path src, Path dst) throws IOException {
    if (!src.toAbsolutePath().normalize().equals(dst.toAbsolutePath().normalize())) {
      Files.copy(src, dst, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
