/**
 * Hugging Face chat templates (Jinja, from a model's {@code tokenizer_config.json}) rendered in
 * Java as transformers renders them, inside a sandbox, and turned into token ids with a loss mask
 * on the assistant turns only.
 *
 * <p>{@link dev.flantune.chat.ChatTemplate} renders (HubSpot jinjava, configured like transformers:
 * trim_blocks, lstrip_blocks, loop controls, {@code raise_exception}, {@code tojson} as Python's
 * {@code json.dumps(ensure_ascii=False)}, a fixed {@code strftime_now}). A template comes with a
 * downloaded model and is untrusted: {@link dev.flantune.chat.ChatTemplateLimits} bounds output,
 * loop iterations, macro recursion and time, and {@link dev.flantune.chat.SandboxResolver} lets a
 * template see only data, never Java objects.
 */
package dev.flantune.chat;
