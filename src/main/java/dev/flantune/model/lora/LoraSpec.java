package dev.flantune.model.lora;

import java.util.List;

/**
 * What a LoRA adapter is (Hu et al., 2021, "LoRA: Low-Rank Adaptation of Large Language Models";
 * rsLoRA: Kalajdzievski, 2023): rank {@code r}, {@code alpha}, dropout on the adapter path, the
 * Hugging Face module names it targets (or {@code all-linear}), and whether the scale is alpha/√r
 * rather than alpha/r.
 */
public record LoraSpec(
    int r, double alpha, double dropout, List<String> targetModules, boolean rslora) {
  public static final String ALL_LINEAR = "all-linear";

  public LoraSpec {
    targetModules = List.copyOf(targetModules);
  }

  /** s in y = x·W + s·(x·Aᵀ)·Bᵀ. */
  public double scaling() {
    return alpha / (rslora ? Math.sqrt(r) : r);
  }

  /** Whether the spec names every projection ({@code all-linear}). */
  public boolean allLinear() {
    return targetModules.size() == 1 && targetModules.get(0).equals(ALL_LINEAR);
  }

  /** Problems with the values, each naming its key under {@code prefix} (e.g. "lora."). */
  public List<String> problems(String prefix) {
    List<String> p = new java.util.ArrayList<>();
    if (r <= 0) p.add(prefix + "r must be positive (got " + r + ")");
    if (!(alpha > 0)) p.add(prefix + "alpha must be positive (got " + alpha + ")");
    if (!(dropout >= 0 && dropout < 1))
      p.add(prefix + "dropout must be in [0, 1) (got " + dropout + ")");
    if (targetModules.isEmpty()) p.add(prefix + "target_modules must name at least one module");
    if (targetModules.size() > 1 && targetModules.contains(ALL_LINEAR))
      p.add(prefix + "target_modules: all-linear stands alone (it already names every projection)");
    return p;
  }
}
