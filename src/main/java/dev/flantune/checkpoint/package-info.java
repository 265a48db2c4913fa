/**
 * Hugging Face checkpoints on disk: {@link dev.flantune.checkpoint.Safetensors} (hardened reader,
 * writer), {@link dev.flantune.checkpoint.HfCheckpoint} (config.json, shards, tokenizer files,
 * validation); names and shapes come from the model as a {@link
 * dev.flantune.checkpoint.TensorTable}. Pickles are refused, never executed.
 */
package dev.flantune.checkpoint;
