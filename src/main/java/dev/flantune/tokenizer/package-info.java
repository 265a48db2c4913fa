/**
 * The tokenizer: Hugging Face tokenizers through DJL, with no special tokens added and no
 * truncation.
 */
package dev.flantune.tokenizer;
