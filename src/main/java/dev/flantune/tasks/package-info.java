/**
 * Tasks as data and their rendering into natural-language instructions (the FLAN recipe).
 *
 * <p>A task is a directory with {@code task.yaml} and JSONL splits ({@link TaskLoader}); a
 * collection is a directory tree of tasks ({@link TaskRegistry}). Each task carries templates
 * ({@link Template}) that {@link Renderer} turns into {@code (prompt, target)} text, zero-shot or
 * k-shot, with the {@code {options_}} block drawn by an {@link OptionsFormat}. Data people already
 * have (Alpaca, prompt/completion, chat messages) is read through {@link DataFormat}.
 *
 * <p>Nothing here tokenizes or knows about the command line: token ids, loss masks, mixtures and
 * batches live in {@code dev.flantune.data}.
 */
package dev.flantune.tasks;
