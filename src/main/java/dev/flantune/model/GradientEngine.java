package dev.flantune.model;

import dev.flantune.data.Batch;
import dev.flantune.model.cpu.CpuEngine;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Forward + backward of a {@link CausalLm} on one micro-batch, adding d(loss)/d(parameter) into
 * gradient buffers laid out like {@link CausalLm#parameters()}. This is the hot path of training.
 *
 * <p>Two implementations compute the same thing from the same {@link ModelConfig}: {@link
 * CpuEngine} (hand-derived backward on buffers allocated once; the CPU default) and {@link
 * GraphGradientEngine} (SameDiff's automatic differentiation; used on other backends). Both are
 * checked against the PyTorch references.
 */
public interface GradientEngine {
  CausalLm model();

  /**
   * The parameters this engine trains, one flat buffer: the whole model, or with a LoRA adapter
   * only its A and B matrices (the base is frozen).
   */
  FlatParameters trainable();

  /**
   * Called before each optimizer step's micro-batches: what varies per step and must replay exactly
   * on resume (LoRA dropout masks) is keyed on it.
   */
  default void beginStep(long step) {}

  /** Gradient buffers by parameter name: the sum of every accumulated micro-batch's gradient. */
  Map<String, INDArray> gradients();

  /** All gradient buffers as one, laid out like {@link #trainable()}. */
  FlatParameters gradientBuffer();

  /**
   * Zeroes the gradient buffers (call at the start of each optimizer step); skips the pass when
   * {@link #gradientsZeroed()} said they are zero and nothing could have written them since.
   */
  void zeroGradients();

  /**
   * Records that the caller has just zeroed {@link #gradientBuffer()} itself (AdamW does, in its
   * pass over the gradients), so the next {@link #zeroGradients()} may skip its own pass. Any call
   * that hands out or writes the buffers in between ({@link #accumulate}, {@link #gradients()},
   * {@link #gradientBuffer()}) forgets it.
   */
  default void gradientsZeroed() {}

  /**
   * Runs forward + backward on one micro-batch and adds d(loss)/d(param) into the buffers, where
   * loss = Σ_i nll_i · lossWeights_i over the positions whose loss mask is non-zero (the LM head
   * runs only there). Returns that loss.
   */
  double accumulate(Batch batch, float[] lossWeights);

  /** "cpu" or "graph", for reports. */
  String name();

  /** The engine the model runs on ({@link CausalLm#engine()}); the CPU one shares its buffers. */
  static GradientEngine forModel(CausalLm model) {
    return model.engine() == Engine.CPU ? model.cpu() : new GraphGradientEngine(model);
  }
}
