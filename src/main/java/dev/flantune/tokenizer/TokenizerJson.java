package dev.flantune.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Reads what DJL does not expose from a {@code tokenizer.json} (vocabulary size, EOS id), and
 * builds a {@code tokenizer.json} from GPT-2's original {@code vocab.json} + {@code merges.txt}.
 */
final class TokenizerJson {
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String EOS = "<|endoftext|>";

  private TokenizerJson() {}

  record Summary(int vocabSize, int eosId) {}

  static Summary summarize(String tokenizerJson, Path source) {
    try {
      JsonNode root = JSON.readTree(tokenizerJson);
      int maxId = -1;
      int eos = -1;
      JsonNode vocab = root.path("model").path("vocab");
      for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        maxId = Math.max(maxId, e.getValue().asInt());
        if (e.getKey().equals(EOS)) eos = e.getValue().asInt();
      }
      for (JsonNode added : root.path("added_tokens")) {
        maxId = Math.max(maxId, added.path("id").asInt());
        if (added.path("content").asText().equals(EOS)) eos = added.path("id").asInt();
      }
      return new Summary(maxId + 1, eos);
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          source + ": tokenizer is not valid JSON (" + e.getMessage() + ")");
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
