package dev.flantune.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * The one table of a model's parameters: each role (what the tensor does) with its Hugging Face
 * name, shape and whether AdamW decays it, in checkpoint order. Engines look tensors up by role;
 * checkpoints are validated against {@link #shapes()}; nothing else spells a tensor name.
 *
 * <p>Families order fused operands next to each other (q, k, v; gate, up; and their biases), so
 * that in {@link FlatParameters} they form one contiguous matrix and one GEMM serves them all.
 */
public final class ParamTable implements dev.flantune.checkpoint.TensorTable {
  /** What a tensor does. Layer roles exist once per layer. */
  /** A weight's place in the model: its role, in layer {@code layer} (−1 outside the blocks). */
  public record Slot(Role role, int layer) {}

  public enum Role {
    EMBED, // [V, C]
    POSITIONS, // [P, C] learned positions
    FINAL_NORM, // [C]
    FINAL_NORM_BIAS, // [C]
    LM_HEAD, // [V, C], only when untied
    ATTN_NORM,
    ATTN_NORM_BIAS,
    QKV, // GPT-2's fused c_attn [C, 3C]
    QKV_BIAS,
    Q, // [H·D, C]
    K, // [KV·D, C]
    V, // [KV·D, C]
    Q_BIAS,
    K_BIAS,
    V_BIAS,
    O, // attention output projection
    O_BIAS,
    MLP_NORM,
    MLP_NORM_BIAS,
    GATE, // SwiGLU's gate [F, C]
    UP, // [F, C] (GPT-2: c_fc [C, F])
    GATE_BIAS,
    UP_BIAS,
    DOWN, // [C, F] (GPT-2: mlp.c_proj [F, C])
    DOWN_BIAS
  }

  /** One tensor: its role, layer (−1 outside the blocks), HF name, shape and weight decay. */
  public record Entry(Role role, int layer, String name, long[] shape, boolean decays) {}

  private final List<Entry> entries;
  private final Map<String, Entry> byName = new LinkedHashMap<>();
  private final UnaryOperator<String> canonical;
  private final String description;

  /**
   * @param canonical maps a stored tensor name to its table name, or null for stored tensors that
   *     are not parameters (buffers some files carry)
   * @param description names the model in error messages, e.g. "a llama with 30 layers"
   */
  public ParamTable(List<Entry> entries, UnaryOperator<String> canonical, String description) {
    this.entries = Collections.unmodifiableList(new ArrayList<>(entries));
    for (Entry e : entries) {
      if (byName.put(e.name(), e) != null) throw new IllegalArgumentException("dup " + e.name());
    }
    this.canonical = canonical;
    this.description = description;
  }

  public List<Entry> entries() {
    return entries;
  }

  /** Every tensor name with its shape, in checkpoint order. */
  public Map<String, long[]> shapes() {
    Map<String, long[]> s = new LinkedHashMap<>();
    for (Entry e : entries) s.put(e.name(), e.shape());
    return s;
  }

  public List<String> names() {
    return new ArrayList<>(byName.keySet());
  }

  public boolean decays(String name) {
    Entry e = byName.get(name);
    return e != null && e.decays();
  }

  /** The name of a role's tensor in {@code layer} (−1 for global roles), or null if absent. */
  public String name(Role role, int layer) {
    for (Entry e : entries) if (e.role() == role && e.layer() == layer) return e.name();
    return null;
  }

  public String canonical(String stored) {
    return canonical.apply(stored);
  }

  public String description() {
    return description;
  }
}
