package dev.flantune.model;

import dev.flantune.data.Batch;
import java.util.Locale;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Forward + backward of a {@link CausalLm} on one micro-batch, adding d(loss)/d(parameter) into
 * gradient buffers laid out like {@link CausalLm#parameters()}. This is the hot path of training.
 *
 * <p>Two implementations compute the same thing: {@link Gpt2Backprop} (hand-derived backward on
 * buffers allocated once; the CPU default, 2× faster and lighter) and {@link GraphGradientEngine}
 * (SameDiff's automatic differentiation; used on other backends). Both are checked against the
 * PyTorch reference.
 */
public interface GradientEngine {
  /** Environment variable (or system property {@code flantune.engine}): direct | graph. */
  String ENGINE_ENV = "FLAN_TUNE_ENGINE";

  CausalLm model();

  /** Gradient buffers by parameter name: the sum of every accumulated micro-batch's gradient. */
  Map<String, INDArray> gradients();

  /** All gradient buffers as one, laid out like {@link CausalLm#parameters()}. */
  FlatParameters gradientBuffer();

  /** Zeroes the gradient buffers (call at the start of each optimizer step). */
  void zeroGradients();

  /**
   * Runs forward + backward on one micro-batch and adds d(loss)/d(param) into the buffers, where
   * loss = Σ_i nll_i · lossWeights_i over the positions whose loss mask is non-zero (the LM head
   * runs only there). Returns that loss.
   */
  double accumulate(Batch batch, float[] lossWeights);

  /**
   * The engine for this backend: the hand-written one on CPU (shared with the model's scoring, so
   * its buffers are reused), the graph elsewhere; {@value #ENGINE_ENV}=graph|direct overrides.
   */
  static GradientEngine forModel(CausalLm model) {
    return useDirect(model) ? model.direct() : new GraphGradientEngine(model);
  }

  /** Whether training and scoring use {@link Gpt2Backprop} for this model. */
  static boolean useDirect(CausalLm model) {
    String choice = System.getProperty("flantune.engine", System.getenv(ENGINE_ENV));
    if (choice == null || choice.isBlank()) {
      return Nd4j.getEnvironment().isCPU() && Gpt2Backprop.supports(model);
    }
    switch (choice.trim().toLowerCase(Locale.ROOT)) {
      case "direct":
        return true;
      case "graph":
        return false;
      default:
        throw dev.flantune.util.FlanTuneException.badUsage(
            ENGINE_ENV
                + " must be 'direct' or 'graph' (got '"
                + choice
                + "'); unset it for the default");
    }
  }
}
