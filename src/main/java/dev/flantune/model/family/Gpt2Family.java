package dev.flantune.model.family;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.model.Gpt2Config;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ParamTable;
import dev.flantune.model.ParamTable.Entry;
import dev.flantune.model.ParamTable.Role;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2: LayerNorm with bias, GELU (tanh form), learned positions, every projection with a bias,
 * Conv1D weights [in, out] with q|k|v fused in {@code c_attn}. Tensor names are Hugging Face's
 * without the optional {@code transformer.} prefix.
 */
public final class Gpt2Family implements Family {
  @Override
  public String modulePrefix() {
    return "transformer.";
  }

  @Override
  public List<String> modelTypes() {
    return List.of("gpt2");
  }

  @Override
  public ModelConfig read(Path file, ObjectNode node) {
    for (String key : List.of("vocab_size", "n_embd", "n_layer", "n_head", "n_positions")) {
      if (!node.path(key).isIntegralNumber()) {
        throw FlanTuneException.badInput(file + ": '" + key + "' is missing or not an integer");
      }
    }
    Gpt2Config c;
    try {
      c = JSON.treeToValue(node, Gpt2Config.class);
    } catch (java.io.IOException | IllegalArgumentException e) {
      throw FlanTuneException.badInput(file + ": " + e.getMessage().lines().findFirst().orElse(""));
    }
    if (!node.has("layer_norm_epsilon")) c = c.withLayerNormEpsilon(1e-5); // GPT-2's default
    List<String> problems = c.problems();
    if (!problems.isEmpty()) throw FlanTuneException.badInput(file + ": " + problems.get(0));
    return describe(c, c.layerNormEpsilon(), node);
  }

  /** The neutral description of a GPT-2 config. */
  public static ModelConfig describe(Gpt2Config c, double eps, ObjectNode json) {
    return new ModelConfig(
        "gpt2",
        c.vocabSize(),
        c.nPositions(),
        c.nEmbd(),
        c.nLayer(),
        c.nHead(),
        c.nHead(),
        c.headSize(),
        c.innerSize(),
        ModelConfig.Norm.LAYER_NORM,
        eps,
        ModelConfig.Mlp.GELU_TANH,
        null,
        true,
        true,
        true,
        c.tied(),
        ModelConfig.Layout.CONV1D,
        c.bosTokenId(),
        c.eosTokenId(),
        json);
  }

  /** A GPT-2 with default settings for the given sizes (for {@code init} and benchmarks). */
  public static ModelConfig of(int vocab, int positions, int embd, int layers, int heads, int eos) {
    Gpt2Config c = Gpt2Config.of(vocab, positions, embd, layers, heads, eos);
    return describe(c, c.layerNormEpsilon(), JSON.valueToTree(c));
  }

  @Override
  public ParamTable table(ModelConfig c) {
    long v = c.vocabSize(), p = c.nPositions(), d = c.nEmbd(), f = c.innerSize();
    List<Entry> e = new ArrayList<>();
    e.add(new Entry(Role.EMBED, -1, "wte.weight", new long[] {v, d}, true));
    e.add(new Entry(Role.POSITIONS, -1, "wpe.weight", new long[] {p, d}, true));
    for (int i = 0; i < c.nLayer(); i++) {
      String h = "h." + i + ".";
      e.add(new Entry(Role.ATTN_NORM, i, h + "ln_1.weight", new long[] {d}, false));
      e.add(new Entry(Role.ATTN_NORM_BIAS, i, h + "ln_1.bias", new long[] {d}, false));
      e.add(new Entry(Role.QKV, i, h + "attn.c_attn.weight", new long[] {d, 3 * d}, true));
      e.add(new Entry(Role.QKV_BIAS, i, h + "attn.c_attn.bias", new long[] {3 * d}, false));
      e.add(new Entry(Role.O, i, h + "attn.c_proj.weight", new long[] {d, d}, true));
      e.add(new Entry(Role.O_BIAS, i, h + "attn.c_proj.bias", new long[] {d}, false));
      e.add(new Entry(Role.MLP_NORM, i, h + "ln_2.weight", new long[] {d}, false));
      e.add(new Entry(Role.MLP_NORM_BIAS, i, h + "ln_2.bias", new long[] {d}, false));
      e.add(new Entry(Role.UP, i, h + "mlp.c_fc.weight", new long[] {d, f}, true));
      e.add(new Entry(Role.UP_BIAS, i, h + "mlp.c_fc.bias", new long[] {f}, false));
      e.add(new Entry(Role.DOWN, i, h + "mlp.c_proj.weight", new long[] {f, d}, true));
      e.add(new Entry(Role.DOWN_BIAS, i, h + "mlp.c_proj.bias", new long[] {d}, false));
    }
    e.add(new Entry(Role.FINAL_NORM, -1, "ln_f.weight", new long[] {d}, false));
    e.add(new Entry(Role.FINAL_NORM_BIAS, -1, "ln_f.bias", new long[] {d}, false));
    if (!c.tied()) e.add(new Entry(Role.LM_HEAD, -1, "lm_head.weight", new long[] {v, d}, true));
    boolean tied = c.tied();
    return new ParamTable(
        e,
        stored -> {
          String n =
              stored.startsWith("transformer.")
                  ? stored.substring("transformer.".length())
                  : stored;
          // Buffers older GPT-2 files carry; and a tied head some files store redundantly.
          if (n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias")) return null;
          if (tied && n.equals("lm_head.weight")) return null;
          return n;
        },
        "a GPT-2 with n_layer=" + c.nLayer());
  }
}
