package dev.flantune.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ModelConfig.Rope;
import dev.flantune.model.ModelConfig.Scaling;
import dev.flantune.model.ParamTable;
import dev.flantune.model.ParamTable.Entry;
import dev.flantune.model.ParamTable.Role;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The Llama family (Llama, Mistral, Qwen2; SmolLM2 and TinyLlama are {@code llama}): RMSNorm,
 * rotate-half RoPE, grouped key/value heads, SwiGLU, torch Linear weights [out, in]. Qwen2 is Llama
 * with biases on q, k and v; Mistral is Llama with a sliding window, supported only when the window
 * covers the whole context.
 */
public final class LlamaFamily implements Family {
  @Override
  public List<String> modelTypes() {
    return List.of("llama", "qwen2", "mistral");
  }

  @Override
  public ModelConfig read(Path file, ObjectNode n) {
    Keys k = new Keys(file, n);
    String type = n.get("model_type").asText();
    int vocab = k.positive("vocab_size", null);
    int hidden = k.positive("hidden_size", null);
    int inter = k.positive("intermediate_size", null);
    int layers = k.positive("num_hidden_layers", null);
    int heads = k.positive("num_attention_heads", null);
    int kvHeads = k.positive("num_key_value_heads", heads);
    int positions = k.positive("max_position_embeddings", null);
    if (heads % kvHeads != 0) {
      throw k.bad(
          "num_attention_heads ("
              + heads
              + ") must be a multiple of num_key_value_heads ("
              + kvHeads
              + ")");
    }
    Integer defaultHeadDim = hidden % heads == 0 ? hidden / heads : null;
    int headDim = k.positive("head_dim", defaultHeadDim);
    if (headDim % 2 != 0) throw k.bad("head_dim (" + headDim + ") must be even for RoPE");
    double eps = k.number("rms_norm_eps", 1e-6);
    if (!(eps > 0)) throw k.bad("rms_norm_eps must be positive");
    String act = n.path("hidden_act").asText("silu");
    if (!act.equals("silu") && !act.equals("swish")) {
      throw k.bad("hidden_act '" + act + "' is not supported; the Llama family uses silu");
    }
    checkSlidingWindow(k, n, type, positions);
    boolean qwen = type.equals("qwen2");
    boolean attentionBias = k.bool("attention_bias", false);
    boolean mlpBias = k.bool("mlp_bias", false);
    boolean tied = k.bool("tie_word_embeddings", false);
    Rope rope = rope(k, n);
    return new ModelConfig(
        type,
        vocab,
        positions,
        hidden,
        layers,
        heads,
        kvHeads,
        headDim,
        inter,
        ModelConfig.Norm.RMS_NORM,
        eps,
        ModelConfig.Mlp.SWIGLU,
        rope,
        qwen || attentionBias,
        !qwen && attentionBias,
        mlpBias,
        tied,
        ModelConfig.Layout.LINEAR,
        tokenId(n.get("bos_token_id")),
        tokenId(n.get("eos_token_id")),
        n);
  }

  /** Mistral/Qwen2 sliding-window attention equals full attention only when the window spans P. */
  private static void checkSlidingWindow(Keys k, ObjectNode n, String type, int positions) {
    JsonNode w = n.get("sliding_window");
    boolean used =
        type.equals("mistral")
            || (type.equals("qwen2") && n.path("use_sliding_window").asBoolean());
    if (!used || w == null || w.isNull()) return;
    if (!w.isIntegralNumber()) throw k.bad("sliding_window must be an integer or null");
    if (w.asInt() < positions) {
      throw k.bad(
          "sliding_window "
              + w.asInt()
              + " is shorter than max_position_embeddings "
              + positions
              + "; sliding-window attention is not supported: set sliding_window to null (or ≥ "
              + positions
              + ") if the model was trained without it");
    }
  }

  /** rope_theta and rope_scaling, or the newer rope_parameters dict that holds both. */
  private static Rope rope(Keys k, ObjectNode n) {
    JsonNode params = n.get("rope_parameters");
    JsonNode scaling = n.get("rope_scaling");
    double theta = k.number("rope_theta", 10000.0);
    String where = "rope_scaling";
    if (params != null && params.isObject()) {
      if (params.has("rope_theta")) theta = params.get("rope_theta").asDouble();
      scaling = params;
      where = "rope_parameters";
    }
    if (!(theta > 0)) throw k.bad("rope_theta must be positive");
    if (scaling == null || scaling.isNull()) return new Rope(theta, Scaling.NONE);
    if (!scaling.isObject()) throw k.bad(where + " must be an object or null");
    String type = scaling.path("rope_type").asText(scaling.path("type").asText("default"));
    switch (type) {
      case "default":
        return new Rope(theta, Scaling.NONE);
      case "linear":
        return new Rope(theta, new Scaling("linear", factor(k, scaling, where), 0, 0, 0));
      case "llama3":
        double low = scaling.path("low_freq_factor").asDouble(1.0);
        double high = scaling.path("high_freq_factor").asDouble(4.0);
        int original = scaling.path("original_max_position_embeddings").asInt(8192);
        if (!(high > low) || original <= 0) {
          throw k.bad(
              where
                  + ": llama3 scaling needs high_freq_factor > low_freq_factor and a positive"
                  + " original_max_position_embeddings");
        }
        return new Rope(
            theta, new Scaling("llama3", factor(k, scaling, where), low, high, original));
      default:
        throw k.bad(
            where
                + " type '"
                + type
                + "' is not supported; flan-tune supports default, linear and llama3");
    }
  }

  private static double factor(Keys k, JsonNode scaling, String where) {
    double f = scaling.path("factor").asDouble(0);
    if (!(f > 0)) throw k.bad(where + ".factor must be a positive number");
    return f;
  }

  /** A token id, or the first of a list (config.json may hold either). */
  private static Integer tokenId(JsonNode id) {
    if (id == null || id.isNull()) return null;
    if (id.isArray()) return id.size() == 0 ? null : id.get(0).asInt();
    return id.isIntegralNumber() ? id.asInt() : null;
  }

  /** A Llama-family config with the given sizes (for {@code init} and benchmarks). */
  public static ModelConfig of(
      String type,
      int vocab,
      int positions,
      int hidden,
      int layers,
      int heads,
      int kvHeads,
      int inter,
      double theta,
      boolean tied,
      Integer bos,
      int eos) {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add(type.equals("qwen2") ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    n.put("model_type", type);
    n.put("vocab_size", vocab);
    n.put("hidden_size", hidden);
    n.put("intermediate_size", inter);
    n.put("num_hidden_layers", layers);
    n.put("num_attention_heads", heads);
    n.put("num_key_value_heads", kvHeads);
    n.put("head_dim", hidden / heads);
    n.put("max_position_embeddings", positions);
    n.put("rms_norm_eps", 1e-5);
    n.put("rope_theta", theta);
    n.putNull("rope_scaling");
    n.put("hidden_act", "silu");
    n.put("tie_word_embeddings", tied);
    if (!type.equals("qwen2")) {
      n.put("attention_bias", false);
      n.put("mlp_bias", false);
    }
    if (bos != null) n.put("bos_token_id", bos);
    n.put("eos_token_id", eos);
    n.put("torch_dtype", "float32");
    return new LlamaFamily().read(Path.of("config.json"), n);
  }

  @Override
  public ParamTable table(ModelConfig c) {
    long v = c.vocabSize(), d = c.nEmbd(), f = c.innerSize();
    long q = (long) c.nHead() * c.headSize(), kv = (long) c.nKvHead() * c.headSize();
    List<Entry> e = new ArrayList<>();
    e.add(new Entry(Role.EMBED, -1, "model.embed_tokens.weight", new long[] {v, d}, true));
    for (int i = 0; i < c.nLayer(); i++) {
      String l = "model.layers." + i + ".";
      e.add(new Entry(Role.ATTN_NORM, i, l + "input_layernorm.weight", new long[] {d}, false));
      // q, k, v (and gate, up) adjacent: one contiguous [(H+2KV)·D, C] matrix in the flat buffer.
      e.add(new Entry(Role.Q, i, l + "self_attn.q_proj.weight", new long[] {q, d}, true));
      e.add(new Entry(Role.K, i, l + "self_attn.k_proj.weight", new long[] {kv, d}, true));
      e.add(new Entry(Role.V, i, l + "self_attn.v_proj.weight", new long[] {kv, d}, true));
      if (c.qkvBias()) {
        e.add(new Entry(Role.Q_BIAS, i, l + "self_attn.q_proj.bias", new long[] {q}, false));
        e.add(new Entry(Role.K_BIAS, i, l + "self_attn.k_proj.bias", new long[] {kv}, false));
        e.add(new Entry(Role.V_BIAS, i, l + "self_attn.v_proj.bias", new long[] {kv}, false));
      }
      e.add(new Entry(Role.O, i, l + "self_attn.o_proj.weight", new long[] {d, q}, true));
      if (c.outBias()) {
        e.add(new Entry(Role.O_BIAS, i, l + "self_attn.o_proj.bias", new long[] {d}, false));
      }
      e.add(
          new Entry(
              Role.MLP_NORM, i, l + "post_attention_layernorm.weight", new long[] {d}, false));
      e.add(new Entry(Role.GATE, i, l + "mlp.gate_proj.weight", new long[] {f, d}, true));
      e.add(new Entry(Role.UP, i, l + "mlp.up_proj.weight", new long[] {f, d}, true));
      if (c.mlpBias()) {
        e.add(new Entry(Role.GATE_BIAS, i, l + "mlp.gate_proj.bias", new long[] {f}, false));
        e.add(new Entry(Role.UP_BIAS, i, l + "mlp.up_proj.bias", new long[] {f}, false));
      }
      e.add(new Entry(Role.DOWN, i, l + "mlp.down_proj.weight", new long[] {d, f}, true));
      if (c.mlpBias()) {
        e.add(new Entry(Role.DOWN_BIAS, i, l + "mlp.down_proj.bias", new long[] {d}, false));
      }
    }
    e.add(new Entry(Role.FINAL_NORM, -1, "model.norm.weight", new long[] {d}, false));
    if (!c.tied()) e.add(new Entry(Role.LM_HEAD, -1, "lm_head.weight", new long[] {v, d}, true));
    boolean tied = c.tied();
    return new ParamTable(
        e,
        stored -> {
          // Rotary frequency buffers some files carry; a tied head stored redundantly.
          if (stored.endsWith(".rotary_emb.inv_freq")) return null;
          if (tied && stored.equals("lm_head.weight")) return null;
          return stored;
        },
        "a " + c.modelType() + " with num_hidden_layers=" + c.nLayer());
  }

  /** Typed reads of config.json keys with one-line errors naming the key. */
  private record Keys(Path file, ObjectNode n) {
    int positive(String key, Integer dflt) {
      JsonNode v = n.get(key);
      if (v == null || v.isNull()) {
        if (dflt != null) return dflt;
        throw bad("'" + key + "' is missing or not an integer");
      }
      if (!v.isIntegralNumber() || v.asLong() <= 0 || v.asLong() > Integer.MAX_VALUE) {
        throw bad("'" + key + "' must be a positive integer (got " + v + ")");
      }
      return v.asInt();
    }

    double number(String key, double dflt) {
      JsonNode v = n.get(key);
      if (v == null || v.isNull()) return dflt;
      if (!v.isNumber()) throw bad("'" + key + "' must be a number (got " + v + ")");
      return v.asDouble();
    }

    boolean bool(String key, boolean dflt) {
      JsonNode v = n.get(key);
      if (v == null || v.isNull()) return dflt;
      if (!v.isBoolean()) throw bad("'" + key + "' must be true or false (got " + v + ")");
      return v.asBoolean();
    }

    FlanTuneException bad(String message) {
      return FlanTuneException.badInput(file + ": " + message);
    }
  }
}
