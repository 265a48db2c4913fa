package dev.flantune.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads what DJL does not expose from a {@code tokenizer.json} (vocabulary size, token ids of
 * special tokens, what the post-processor prepends), and builds a {@code tokenizer.json} from
 * GPT-2's original {@code vocab.json} + {@code merges.txt}.
 */
final class TokenizerJson {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String EOS = SpecialTokens.GPT2_EOS;

  private TokenizerJson() {}

  /**
   * The vocabulary of a parsed {@code tokenizer.json}: added tokens first (they win, as in the
   * tokenizer), then the model's vocabulary (an object for BPE/WordPiece, a list of [piece, score]
   * for Unigram).
   */
  static SpecialTokens.Vocabulary vocabulary(String tokenizerJson, Path source) {
    JsonNode root;
    try {
      root = JSON.readTree(tokenizerJson);
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          source + ": tokenizer is not valid JSON (" + e.getMessage() + ")");
    }
    Map<String, Integer> added = new HashMap<>();
    int maxId = -1;
    for (JsonNode t : root.path("added_tokens")) {
      added.put(t.path("content").asText(), t.path("id").asInt());
      maxId = Math.max(maxId, t.path("id").asInt());
    }
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isArray()) {
      maxId = Math.max(maxId, vocab.size() - 1);
    } else {
      for (Iterator<JsonNode> it = vocab.elements(); it.hasNext(); )
        maxId = Math.max(maxId, it.next().asInt());
    }
    int size = maxId + 1;
    String prepended = prependedToken(root.path("post_processor"));
    return new SpecialTokens.Vocabulary() {
      @Override
      public int idOf(String token) {
        Integer id = added.get(token);
        if (id != null) return id;
        if (vocab.isArray()) {
          for (int i = 0; i < vocab.size(); i++)
            if (vocab.get(i).path(0).asText().equals(token)) return i;
          return -1;
        }
        JsonNode n = vocab.get(token);
        return n == null ? -1 : n.asInt();
      }

      @Override
      public String tokenOf(int id) {
        for (Map.Entry<String, Integer> e : added.entrySet())
          if (e.getValue() == id) return e.getKey();
        if (vocab.isArray()) return id < vocab.size() ? vocab.get(id).path(0).asText() : "";
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> e = it.next();
          if (e.getValue().asInt() == id) return e.getKey();
        }
        return "";
      }

      @Override
      public int size() {
        return size;
      }

      @Override
      public String prependedByPostProcessor() {
        return prepended;
      }
    };
  }

  /**
   * The special token a post-processor puts before a single sequence, or "": the first piece of a
   * {@code TemplateProcessing}'s {@code single} template (Llama 3's {@code <|begin_of_text|>} $A,
   * TinyLlama's {@code <s>} $A), the {@code cls} of BERT/RoBERTa processing, searched through a
   * {@code Sequence} of processors.
   */
  static String prependedToken(JsonNode pp) {
    switch (pp.path("type").asText()) {
      case "TemplateProcessing" -> {
        JsonNode first = pp.path("single").path(0);
        if (!first.has("SpecialToken")) return "";
        String key = first.get("SpecialToken").path("id").asText();
        JsonNode tokens = pp.path("special_tokens").path(key).path("tokens");
        return tokens.isArray() && tokens.size() > 0 ? tokens.get(0).asText() : key;
      }
      case "BertProcessing", "RobertaProcessing" -> {
        return pp.path("cls").path(0).asText("");
      }
      case "Sequence" -> {
        for (JsonNode p : pp.path("processors")) {
          String t = prependedToken(p);
          if (!t.isEmpty()) return t;
        }
        return "";
      }
      default -> {
        return "";
      }
    }
  }

  /** The tokenizer.json equivalent of GPT-2's byte-level BPE files. */
  static String toTokenizerJson(Path vocabJson, Path mergesTxt) {
    try {
      JsonNode vocab = JSON.readTree(vocabJson.toFile());
      if (!vocab.isObject()) {
        throw FlanTuneException.badInput(vocabJson + ": expected a JSON object of token -> id");
      }
      ArrayNode merges = JSON.createArrayNode();
      List<String> lines = Files.readAllLines(mergesTxt);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.startsWith("#version") || line.isBlank()) continue;
        if (line.split(" ").length != 2) {
          throw FlanTuneException.badInput(
              mergesTxt + ":" + (i + 1) + ": a merge must be two tokens separated by one space");
        }
        merges.add(line);
      }
      ObjectNode root = JSON.createObjectNode();
      root.put("version", "1.0");
      root.putNull("truncation");
      root.putNull("padding");
      ArrayNode added = root.putArray("added_tokens");
      JsonNode eosId = vocab.get(EOS);
      if (eosId != null) {
        ObjectNode t = added.addObject();
        t.put("id", eosId.asInt());
        t.put("content", EOS);
        t.put("single_word", false);
        t.put("lstrip", false);
        t.put("rstrip", false);
        t.put("normalized", true);
        t.put("special", true);
      }
      root.putNull("normalizer");
      ObjectNode pre = root.putObject("pre_tokenizer");
      pre.put("type", "ByteLevel");
      pre.put("add_prefix_space", false);
      pre.put("trim_offsets", true);
      pre.put("use_regex", true);
      ObjectNode post = root.putObject("post_processor");
      post.put("type", "ByteLevel");
      post.put("add_prefix_space", true);
      post.put("trim_offsets", false);
      post.put("use_regex", true);
      ObjectNode dec = root.putObject("decoder");
      dec.put("type", "ByteLevel");
      dec.put("add_prefix_space", true);
      dec.put("trim_offsets", true);
      dec.put("use_regex", true);
      ObjectNode model = root.putObject("model");
      model.put("type", "BPE");
      model.putNull("dropout");
      model.putNull("unk_token");
      model.putNull("continuing_subword_prefix");
      model.putNull("end_of_word_suffix");
      model.put("fuse_unk", false);
      model.put("byte_fallback", false);
      model.set("vocab", vocab);
      model.set("merges", merges);
      return JSON.writeValueAsString(root);
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          vocabJson + ": cannot read GPT-2 vocabulary (" + e.getMessage() + ")");
    }
  }
}
