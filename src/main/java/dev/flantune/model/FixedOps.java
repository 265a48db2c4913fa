package dev.flantune.model;

import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.imports.converters.DifferentialFunctionClassHolder;
import org.nd4j.linalg.api.ops.impl.loss.SparseSoftmaxCrossEntropyLossWithLogits;
import org.nd4j.linalg.api.ops.impl.loss.bp.SparseSoftmaxCrossEntropyLossWithLogitsBp;
import org.nd4j.linalg.api.ops.impl.shape.Gather;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Two ops whose stock gradients are silently wrong in ND4J 1.0.0-M2.1, with correct ones.
 *
 * <ul>
 *   <li>{@code gather}: the stock backward assigns instead of adding (wrong for repeated ids) and
 *       fails outright with more than one gather per graph. Ours: dTable =
 *       unsorted_segment_sum(dOut, ids, V), deterministic.
 *   <li>{@code sparse_softmax_cross_entropy_loss_with_logits}: the stock backward ignores the
 *       upstream gradient, so a loss mask applied after it vanishes from the gradient. Ours
 *       multiplies the stock backward by the upstream gradient.
 * </ul>
 *
 * <p>Trap: SameDiff builds the gradient graph by cloning every op through FlatBuffers, which
 * re-instantiates whatever class is registered for the native op name. A subclass alone would be
 * swapped back to the stock class; so {@link #register()} re-registers the two op names to our
 * subclasses (a JVM-wide change: every gather and sparse CE in this JVM gets the correct gradient).
 * The gradient tests prove that the replacement is in effect.
 */
public final class FixedOps {
  static final String GATHER = "gather";
  static final String SPARSE_CE = "sparse_softmax_cross_entropy_loss_with_logits";

  private static boolean registered;

  private FixedOps() {}

  /**
   * Row lookup {@code table[ids]} along axis 0 (a weight or an activation); {@code ids} must be
   * rank 1.
   */
  public static SDVariable embedding(SameDiff sd, String name, SDVariable table, SDVariable ids) {
    register();
    return sd.updateVariableNameAndReference(
        new EmbeddingGather(sd, table, ids).outputVariable(), name);
  }

  /** Per-row −ln softmax(logits)[label]; logits [N, V], integer labels [N] → [N]. */
  public static SDVariable sparseCrossEntropy(
      SameDiff sd, String name, SDVariable logits, SDVariable labels) {
    register();
    return sd.updateVariableNameAndReference(
        new SparseCrossEntropy(sd, logits, labels).outputVariable(), name);
  }

  static synchronized void register() {
    if (registered) return;
    try {
      Object holder = DifferentialFunctionClassHolder.getInstance();
      Field single = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClass");
      Field multi = DifferentialFunctionClassHolder.class.getDeclaredField("customOpHashToClasses");
      single.setAccessible(true);
      multi.setAccessible(true);
      @SuppressWarnings("unchecked")
      Map<Long, Class<?>> one = (Map<Long, Class<?>>) single.get(holder);
      @SuppressWarnings("unchecked")
      Map<Long, Map<String, Class<?>>> many = (Map<Long, Map<String, Class<?>>>) multi.get(holder);
      Map<String, Class<?>> replacements =
          Map.of(GATHER, EmbeddingGather.class, SPARSE_CE, SparseCrossEntropy.class);
      for (Map.Entry<String, Class<?>> e : replacements.entrySet()) {
        long hash = Nd4j.getExecutioner().getCustomOperations().get(e.getKey()).getHash();
        if (many.containsKey(hash)) many.get(hash).put(e.getKey(), e.getValue());
        else one.put(hash, e.getValue());
      }
      registered = true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new IllegalStateException(
          "cannot install the corrected gather/sparse-CE gradients into ND4J (version mismatch?)",
          e);
    }
  }

  /** gather along axis 0 with an additive (scatter-add) gradient. */
  public static class EmbeddingGather extends Gather {
    public EmbeddingGather() {}

    public EmbeddingGather(SameDiff sd, SDVariable table, SDVariable ids) {
      super(sd, table, ids, 0);
    }

    @Override
    public List<SDVariable> doDiff(List<SDVariable> grad) {
      SDVariable table = arg(0);
      SDVariable ids = arg(1);
      // unsorted_segment_sum, not scatter_add: scatter_add's multi-threaded accumulation order
      // varies
      // run to run for repeated ids, which breaks bit-exact resume.
      // The row count is read at run time: the table may be an activation ([N, C]) as well as a
      // weight.
      SDVariable rows = sameDiff.sizeAt(table, 0).castTo(org.nd4j.linalg.api.buffer.DataType.INT);
      SDVariable dTable = sameDiff.unsortedSegmentSum(grad.get(0), ids, rows);
      return Arrays.asList(dTable, sameDiff.zerosLike(ids));
    }
  }

  /** Sparse softmax cross-entropy whose gradient honours the upstream gradient. */
  public static class SparseCrossEntropy extends SparseSoftmaxCrossEntropyLossWithLogits {
    public SparseCrossEntropy() {}

    public SparseCrossEntropy(SameDiff sd, SDVariable logits, SDVariable labels) {
      super(sd, logits, labels);
    }

    @Override
    public List<SDVariable> doDiff(List<SDVariable> grad) {
      // The op stores its arguments as [labels, logits].
      SDVariable labels = arg(0);
      SDVariable logits = arg(1);
      SDVariable dLogits =
          new SparseSoftmaxCrossEntropyLossWithLogitsBp(sameDiff, logits, labels).outputVariable();
      dLogits = dLogits.mul(sameDiff.expandDims(grad.get(0), 1));
      return Arrays.asList(sameDiff.zerosLike(labels), dLogits);
    }
  }
}
