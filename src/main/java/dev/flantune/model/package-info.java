/**
 * The GPT-2 causal LM: {@link dev.flantune.model.Gpt2Graph} builds it in SameDiff, {@link
 * dev.flantune.model.CausalLm} holds it (load, save, inference), {@link
 * dev.flantune.model.GradientEngine} runs forward + backward for training, {@link
 * dev.flantune.model.FixedOps} replaces two ND4J ops whose gradients are wrong, {@link
 * dev.flantune.model.Scorer} scores completions and {@link dev.flantune.model.KvCacheDecoder}
 * decodes incrementally.
 */
package dev.flantune.model;
