package dev.flantune.tasks;

/**
 * How examples become text. Defaults ({@link #DEFAULTS}) are FLAN's, plus the one choice a
 * decoder-only model forces on us: what separates the prompt from the target.
 *
 * @param optionsFormat how {@code {options_}} is drawn (FLAN's block, or randomized per example)
 * @param targetSeparator appended to the prompt unless it already ends in whitespace, so the target
 *     does not run on from the prompt ("...- positivenegative"). It is part of {@code prompt}, so
 *     training and evaluation see the same ids.
 * @param shots exemplars per prompt (0 = zero-shot) where a caller chooses them itself (evaluation,
 *     {@code render --shots})
 * @param shotMix the training rendering's exemplar counts ({@link Renderer#render(Task, Example)}):
 *     each example draws one, seeded by its identity, so {@code [0]} is zero-shot throughout and
 *     {@code [0, 2]} renders about half the examples 2-shot (a mix of zero- and few-shot prompts,
 *     as in the Flan Collection)
 * @param exemplarDelimiter joins the exemplars and the query (FLAN: a blank line)
 * @param fewShotTokenBudget exemplars are dropped, farthest from the query first, until the
 *     prompt's estimated token count fits; the query itself is always kept (truncation handles the
 *     rest)
 * @param seed seeds template, options-format and exemplar choices
 */
public record RenderOptions(
    OptionsFormat.Policy optionsFormat,
    String targetSeparator,
    int shots,
    java.util.List<Integer> shotMix,
    String exemplarDelimiter,
    int fewShotTokenBudget,
    long seed) {

  public static final RenderOptions DEFAULTS =
      new RenderOptions(
          OptionsFormat.Policy.FLAN_ONLY, "\n", 0, java.util.List.of(0), "\n\n", 960, 0);

  public RenderOptions {
    if (shots < 0) throw new IllegalArgumentException("shots must be >= 0, got " + shots);
    shotMix = java.util.List.copyOf(shotMix);
    if (shotMix.isEmpty() || shotMix.stream().anyMatch(k -> k < 0))
      throw new IllegalArgumentException("shotMix must be non-empty and >= 0, got " + shotMix);
    if (fewShotTokenBudget < 1)
      throw new IllegalArgumentException("fewShotTokenBudget must be >= 1");
  }

  /** The rendering choices a run config makes: its options format, shots and seed. */
  public static RenderOptions of(dev.flantune.config.RunConfig cfg) {
    OptionsFormat.Policy policy =
        cfg.data().optionsFormat() == dev.flantune.config.RunConfig.OptionsFormat.RANDOM
            ? OptionsFormat.Policy.randomAmong(OptionsFormat.FLAN_COLLECTION)
            : OptionsFormat.Policy.FLAN_ONLY;
    return DEFAULTS.withOptionsFormat(policy).withShotMix(cfg.data().shots()).withSeed(cfg.seed());
  }

  /**
   * The training rendering for sequences of {@code length} tokens: few-shot prompts keep only the
   * exemplars that fit in three quarters of the sequence, leaving room for the target (exemplars
   * beyond that would be cut off by truncation anyway).
   */
  public static RenderOptions forTraining(dev.flantune.config.RunConfig cfg, int length) {
    return of(cfg).withFewShotTokenBudget(Math.max(1, length - length / 4));
  }

  /** Whether the training rendering ever puts exemplars in front of a prompt. */
  public boolean fewShotTraining() {
    return shotMix.stream().anyMatch(k -> k > 0);
  }

  public RenderOptions withFewShotTokenBudget(int tokens) {
    return new RenderOptions(
        optionsFormat, targetSeparator, shots, shotMix, exemplarDelimiter, tokens, seed);
  }

  public RenderOptions withShotMix(java.util.List<Integer> mix) {
    return new RenderOptions(
        optionsFormat, targetSeparator, shots, mix, exemplarDelimiter, fewShotTokenBudget, seed);
  }

  public RenderOptions withSeed(long s) {
    return new RenderOptions(
        optionsFormat, targetSeparator, shots, shotMix, exemplarDelimiter, fewShotTokenBudget, s);
  }

  public RenderOptions withShots(int k) {
    return new RenderOptions(
        optionsFormat, targetSeparator, k, shotMix, exemplarDelimiter, fewShotTokenBudget, seed);
  }

  public RenderOptions withOptionsFormat(OptionsFormat.Policy p) {
    return new RenderOptions(
        p, targetSeparator, shots, shotMix, exemplarDelimiter, fewShotTokenBudget, seed);
  }
}
