package dev.flantune.model.family;

import dev.flantune.model.ModelConfig;
import dev.flantune.util.FlanTuneException;
import java.util.List;

/**
 * A model to build from scratch ({@code init}, {@code bench}, pretraining): the family and the
 * sizes a user gives; every other setting is the family's default.
 *
 * @param kvHeads key/value heads (Llama family; null = heads)
 * @param inter MLP width (null = 4·C for GPT-2, 8/3·C rounded up to a multiple of 64 for Llama)
 */
public record Architecture(
    String arch,
    int vocab,
    int positions,
    int embd,
    int layers,
    int heads,
    Integer kvHeads,
    Integer inter,
    double ropeTheta,
    boolean tied,
    Integer bos,
    int eos) {
  public static final List<String> NAMES = List.of("gpt2", "llama", "qwen2", "mistral");

  /** The config, or a usage error naming the bad size. */
  public ModelConfig config() {
    if (vocab <= 0 || positions <= 0 || embd <= 0 || layers <= 0 || heads <= 0) {
      throw FlanTuneException.badUsage("vocabulary, positions, embd, layers and heads must be > 0");
    }
    if (embd % heads != 0) {
      throw FlanTuneException.badUsage(
          "embd (" + embd + ") must be divisible by heads (" + heads + ")");
    }
    if (arch.equals("gpt2")) {
      if (kvHeads != null && kvHeads != heads) {
        throw FlanTuneException.badUsage("--kv-heads: GPT-2 has as many key/value heads as heads");
      }
      if (inter != null && inter != 4 * embd) {
        throw FlanTuneException.badUsage("--inter: GPT-2's MLP width is 4·embd");
      }
      ModelConfig c = Gpt2Family.of(vocab, positions, embd, layers, heads, eos);
      if (!tied) throw FlanTuneException.badUsage("--tied false: init writes tied GPT-2 models");
      return c;
    }
    if (!NAMES.contains(arch)) {
      throw FlanTuneException.badUsage(
          "--arch " + arch + " is not supported; choose one of " + String.join(", ", NAMES));
    }
    int kv = kvHeads == null ? heads : kvHeads;
    if (kv <= 0 || heads % kv != 0) {
      throw FlanTuneException.badUsage(
          "heads (" + heads + ") must be a multiple of kv-heads (" + kv + ")");
    }
    if ((embd / heads) % 2 != 0) {
      throw FlanTuneException.badUsage("embd / heads must be even for rotary positions");
    }
    int f = inter != null ? inter : (int) (Math.ceil(8.0 * embd / 3 / 64) * 64);
    return LlamaFamily.of(
        arch, vocab, positions, embd, layers, heads, kv, f, ropeTheta, tied, bos, eos);
  }
}
