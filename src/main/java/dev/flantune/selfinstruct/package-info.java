/**
 * Self-Instruct (Wang et al., 2022): grows an instruction collection from seed tasks with the model
 * itself. Seeds → instruction generation (numbered-list prompts, sampled) → classification or not →
 * instance generation (input-first, or output-first for classification) → filters → a flan-tune
 * task collection. Generation goes through {@link dev.flantune.selfinstruct.TextSampler}, so a
 * batched decoder can replace the one-prompt-at-a-time one without touching the pipeline.
 */
package dev.flantune.selfinstruct;
