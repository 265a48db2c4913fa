package dev.flantune.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * GPT-2 hyper-parameters under Hugging Face's {@code config.json} names. Unknown keys of real
 * configs (task_specific_params, …) are ignored on read and not written back.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Gpt2Config(
    @JsonProperty("model_type") String modelType,
    @JsonProperty("vocab_size") int vocabSize,
    @JsonProperty("n_positions") int nPositions,
    @JsonProperty("n_embd") int nEmbd,
    @JsonProperty("n_layer") int nLayer,
    @JsonProperty("n_head") int nHead,
    @JsonProperty("n_inner") Integer nInner,
    @JsonProperty("layer_norm_epsilon") double layerNormEpsilon,
    @JsonProperty("activation_function") String activationFunction,
    @JsonProperty("tie_word_embeddings") Boolean tieWordEmbeddings,
    @JsonProperty("bos_token_id") Integer bosTokenId,
    @JsonProperty("eos_token_id") Integer eosTokenId,
    @JsonProperty("architectures") java.util.List<String> architectures) {

  public static final String GELU_NEW = "gelu_new";

  /** A config with GPT-2's defaults for everything but the sizes. */
  public static Gpt2Config of(
      int vocab, int positions, int embd, int layers, int heads, int eosId) {
    return new Gpt2Config(
        "gpt2",
        vocab,
        positions,
        embd,
        layers,
        heads,
        null,
        1e-5,
        GELU_NEW,
        true,
        eosId,
        eosId,
        java.util.List.of("GPT2LMHeadModel"));
  }

  public Gpt2Config withLayerNormEpsilon(double eps) {
    return new Gpt2Config(
        modelType,
        vocabSize,
        nPositions,
        nEmbd,
        nLayer,
        nHead,
        nInner,
        eps,
        activationFunction,
        tieWordEmbeddings,
        bosTokenId,
        eosTokenId,
        architectures);
  }

  public boolean tied() {
    return tieWordEmbeddings == null || tieWordEmbeddings;
  }

  public int innerSize() {
    return nInner == null ? 4 * nEmbd : nInner;
  }

  public int headSize() {
    return nEmbd / nHead;
  }

  /** Problems that make this config unusable, each naming its key; empty when fine. */
  public java.util.List<String> problems() {
    var p = new java.util.ArrayList<String>();
    if (modelType != null && !modelType.equals("gpt2")) {
      p.add("model_type is '" + modelType + "'; flan-tune supports gpt2");
    }
    if (vocabSize <= 0) p.add("vocab_size must be positive");
    if (nPositions <= 0) p.add("n_positions must be positive");
    if (nEmbd <= 0) p.add("n_embd must be positive");
    if (nLayer <= 0) p.add("n_layer must be positive");
    if (nHead <= 0) p.add("n_head must be positive");
    else if (nEmbd % nHead != 0)
      p.add("n_embd (" + nEmbd + ") must be divisible by n_head (" + nHead + ")");
    if (!(layerNormEpsilon > 0)) p.add("layer_norm_epsilon must be positive");
    if (activationFunction != null
        && !activationFunction.equals(GELU_NEW)
        && !activationFunction.equals("gelu_pytorch_tanh")) {
      p.add("activation_function '" + activationFunction + "' is not supported; use gelu_new");
    }
    return p;
  }
}
