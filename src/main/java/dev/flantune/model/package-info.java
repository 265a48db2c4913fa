/**
 * Causal language models as data: a {@link dev.flantune.model.ModelConfig} (sizes, norm, positions,
 * MLP, biases, head, layout) read from config.json by a {@link dev.flantune.model.family.Family}
 * (GPT-2; Llama, Qwen2, Mistral), and a {@link dev.flantune.model.ParamTable}, the one place tensor
 * names live. {@link dev.flantune.model.CausalLm} holds a model (load, save, inference) with every
 * parameter in one {@link dev.flantune.model.FlatParameters} buffer. Two engines run the same
 * description, chosen once per process ({@link dev.flantune.model.Engine}): {@link
 * dev.flantune.model.cpu.CpuEngine}, forward and backward written out by hand on buffers allocated
 * once (training, scoring and the key/value-cache decoder on CPU), and {@link
 * dev.flantune.model.ModelGraph}, the SameDiff graph (automatic differentiation through {@link
 * dev.flantune.model.GraphGradientEngine} on other backends, with {@link
 * dev.flantune.model.FixedOps} replacing two ND4J ops whose gradients are wrong). {@link
 * dev.flantune.model.Scorer} scores completions.
 */
package dev.flantune.model;
