package dev.flantune.model;

import dev.flantune.model.cpu.OptimizerKernels;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiPredicate;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * One contiguous fp32 buffer [P] holding every parameter (or every gradient, or every optimizer
 * moment), each tensor a named view into it.
 *
 * <p>Why: the optimizer, the gradient norm, clipping and zeroing then run as a handful of native
 * ops over P elements instead of ~14 ops per tensor. On 2 shared cores each ND4J op carries a fixed
 * (OpenMP) cost of milliseconds; per-tensor AdamW on V8000 d512 L6 took 0.8–7 s per step, the flat
 * one 0.36 s (same session, same load).
 *
 * <p>Layout: tensors that take weight decay come first, so decay is one op on the prefix [0, {@link
 * #decayedLength()}); within each group the given (checkpoint) order is kept. The layout is
 * internal: checkpoints are written per tensor by name.
 */
public final class FlatParameters {
  private final INDArray flat;
  private final Map<String, INDArray> views;
  private final long decayedLength;

  private FlatParameters(INDArray flat, Map<String, INDArray> views, long decayedLength) {
    this.flat = flat;
    this.views = Collections.unmodifiableMap(views);
    this.decayedLength = decayedLength;
  }

  /** A zeroed buffer for tensors of the given shapes (in checkpoint order). */
  public static FlatParameters zeros(
      Map<String, long[]> shapes, BiPredicate<String, long[]> decays) {
    return zeros(shapes, decays, DataType.FLOAT);
  }

  /**
   * As {@link #zeros(Map, BiPredicate)} stored as {@code dtype}: BFLOAT16 or HALF hold a frozen
   * base in 2 bytes per parameter (a LoRA run computes in fp32 from it).
   */
  public static FlatParameters zeros(
      Map<String, long[]> shapes, BiPredicate<String, long[]> decays, DataType dtype) {
    long total = 0;
    for (long[] s : shapes.values()) total += length(s);
    INDArray flat = Nd4j.zeros(dtype, total);
    Map<String, long[]> offsets = new LinkedHashMap<>(); // name → {offset}
    long at = 0, decayed = 0;
    for (boolean decayGroup : new boolean[] {true, false}) {
      for (Map.Entry<String, long[]> e : shapes.entrySet()) {
        if (decays.test(e.getKey(), e.getValue()) != decayGroup) continue;
        offsets.put(e.getKey(), new long[] {at});
        at += length(e.getValue());
      }
      if (decayGroup) decayed = at;
    }
    Map<String, INDArray> views = new LinkedHashMap<>(); // checkpoint order
    for (Map.Entry<String, long[]> e : shapes.entrySet()) {
      long off = offsets.get(e.getKey())[0];
      views.put(
          e.getKey(),
          flat.get(NDArrayIndex.interval(off, off + length(e.getValue())))
              .reshape('c', e.getValue()));
    }
    return new FlatParameters(flat, views, decayed);
  }

  /** A zeroed buffer with the same layout. */
  public FlatParameters zerosLike() {
    INDArray flat2 = Nd4j.zeros(DataType.FLOAT, flat.length());
    Map<String, INDArray> v2 = new LinkedHashMap<>();
    views.forEach(
        (k, v) -> {
          long off = v.offset() - flat.offset();
          v2.put(
              k, flat2.get(NDArrayIndex.interval(off, off + v.length())).reshape('c', v.shape()));
        });
    return new FlatParameters(flat2, v2, decayedLength);
  }

  /** The whole buffer, [P]. */
  public INDArray flat() {
    return flat;
  }

  /** Named views, in checkpoint order. */
  public Map<String, INDArray> views() {
    return views;
  }

  /**
   * The L2 norm of the whole buffer. On CPU summed in fp64 over fixed blocks combined in order, so
   * the result does not depend on the number of cores; elsewhere ND4J's norm2.
   */
  public double norm2() {
    if (!OptimizerKernels.reachable(flat)) return flat.norm2Number().doubleValue();
    ByteBuffer bytes = OptimizerKernels.bytes(flat);
    int off = (int) flat.offset(), len = (int) flat.length();
    int blocks = (len + NORM_BLOCK - 1) / NORM_BLOCK;
    double[] partial = new double[blocks];
    Parallel.range(
        blocks,
        NORM_BLOCK,
        (from, to) -> {
          for (int b = from; b < to; b++) {
            int start = b * NORM_BLOCK;
            partial[b] =
                OptimizerKernels.sumOfSquares(
                    bytes, off + start, Math.min(NORM_BLOCK, len - start));
          }
        });
    double total = 0;
    for (double p : partial) total += p;
    return Math.sqrt(total);
  }

  static final int NORM_BLOCK = 1 << 14;

  /** The decayed tensors occupy [0, decayedLength) of {@link #flat()}. */
  public long decayedLength() {
    return decayedLength;
  }

  private static long length(long[] shape) {
    long n = 1;
    for (long d : shape) n *= d;
    return n;
  }
}
