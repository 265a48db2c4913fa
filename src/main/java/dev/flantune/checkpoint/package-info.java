/**
 * Hugging Face checkpoints on disk: {@link dev.flantune.checkpoint.Safetensors} (hardened reader,
 * writer), {@link dev.flantune.checkpoint.HfCheckpoint} (config.json, shards, tokenizer files,
 * validation) and the one table of GPT-2 tensor names, {@link dev.flantune.checkpoint.Gpt2Weights}.
 * Pickles are refused, never executed.
 */
package dev.flantune.checkpoint;
