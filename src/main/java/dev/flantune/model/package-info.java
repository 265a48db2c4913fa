/**
 * The GPT-2 causal LM. {@link dev.flantune.model.CausalLm} holds it (load, save, inference) with
 * every parameter in one {@link dev.flantune.model.FlatParameters} buffer. Two implementations of
 * the same model: {@link dev.flantune.model.Gpt2Backprop}, forward and backward written out by hand
 * on buffers allocated once (training, scoring and generation on CPU), and {@link
 * dev.flantune.model.Gpt2Graph}, the SameDiff graph (logits, and automatic differentiation through
 * {@link dev.flantune.model.GraphGradientEngine} on other backends, with {@link
 * dev.flantune.model.FixedOps} replacing two ND4J ops whose gradients are wrong). {@link
 * dev.flantune.model.GradientEngine} picks the training engine, {@link dev.flantune.model.Decoder}
 * the key/value-cache decoder, {@link dev.flantune.model.Scorer} scores completions.
 */
package dev.flantune.model;
