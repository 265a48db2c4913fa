package dev.flantune.checkpoint;

import dev.flantune.model.Gpt2Config;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one table of GPT-2 parameter names (Hugging Face's, without the {@code transformer.} prefix)
 * and shapes. HF's Conv1D stores linear weights as [in, out], so y = x · W + b with no transpose.
 */
public final class Gpt2Weights {
  public static final String WTE = "wte.weight"; // [V, C]
  public static final String WPE = "wpe.weight"; // [P, C]
  public static final String LN_F_W = "ln_f.weight"; // [C]
  public static final String LN_F_B = "ln_f.bias"; // [C]
  public static final String LM_HEAD = "lm_head.weight"; // [V, C], only when untied

  private Gpt2Weights() {}

  public static String layer(int i, String suffix) {
    return "h." + i + "." + suffix;
  }

  /** Every parameter with its shape, in a fixed order (the order checkpoints are written in). */
  public static Map<String, long[]> shapes(Gpt2Config c) {
    long v = c.vocabSize(), p = c.nPositions(), d = c.nEmbd(), f = c.innerSize();
    Map<String, long[]> s = new LinkedHashMap<>();
    s.put(WTE, new long[] {v, d});
    s.put(WPE, new long[] {p, d});
    for (int i = 0; i < c.nLayer(); i++) {
      s.put(layer(i, "ln_1.weight"), new long[] {d});
      s.put(layer(i, "ln_1.bias"), new long[] {d});
      s.put(layer(i, "attn.c_attn.weight"), new long[] {d, 3 * d});
      s.put(layer(i, "attn.c_attn.bias"), new long[] {3 * d});
      s.put(layer(i, "attn.c_proj.weight"), new long[] {d, d});
      s.put(layer(i, "attn.c_proj.bias"), new long[] {d});
      s.put(layer(i, "ln_2.weight"), new long[] {d});
      s.put(layer(i, "ln_2.bias"), new long[] {d});
      s.put(layer(i, "mlp.c_fc.weight"), new long[] {d, f});
      s.put(layer(i, "mlp.c_fc.bias"), new long[] {f});
      s.put(layer(i, "mlp.c_proj.weight"), new long[] {f, d});
      s.put(layer(i, "mlp.c_proj.bias"), new long[] {d});
    }
    s.put(LN_F_W, new long[] {d});
    s.put(LN_F_B, new long[] {d});
    if (!c.tied()) s.put(LM_HEAD, new long[] {v, d});
    return s;
  }

  /**
   * Whether AdamW decays this parameter: matrices (embeddings and linear weights) yes; biases and
   * LayerNorm gains no.
   */
  public static boolean decays(String name, long[] shape) {
    return shape.length >= 2;
  }

  /**
   * Maps a stored tensor name to flan-tune's name: strips {@code transformer.}; returns null for
   * buffers that older GPT-2 files carry and that are not parameters (attn.bias, attn.masked_bias).
   */
  public static String canonical(String stored) {
    String n =
        stored.startsWith("transformer.") ? stored.substring("transformer.".length()) : stored;
    if (n.endsWith(".attn.bias") || n.endsWith(".attn.masked_bias")) return null;
    return n;
  }

  public static List<String> names(Gpt2Config c) {
    return new ArrayList<>(shapes(c).keySet());
  }
}
