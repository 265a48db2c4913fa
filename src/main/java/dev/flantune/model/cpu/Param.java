package dev.flantune.model.cpu;

import dev.flantune.model.HalfPrecision;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A parameter (or several adjacent ones, e.g. q|k|v) as the CPU engine uses it: a view into the
 * flat parameter buffer for GEMMs (vectors as [1, K], so that bias gradients are 1ᵀ·dY GEMMs), its
 * offset for loops, and once training, the same view into the gradient buffer.
 */
final class Param {
  final INDArray w;
  final int off;
  final int length;
  final Half half; // null: fp32 in the flat buffer
  INDArray g;

  /** Where a frozen base held in two bytes keeps its values. */
  record Half(ShortBuffer shorts, DataType type) {}

  Param(INDArray w, int off, Half half) {
    this.w = w;
    this.off = off;
    this.length = Math.toIntExact(w.length());
    this.half = half;
  }

  /** A copy of the values (bias and gain vectors, read once per kernel call). */
  float[] read(FloatBuffer pw) {
    float[] v = new float[length];
    readRange(pw, 0, v, length);
    return v;
  }

  /** dst[0, n) = values [from, from + n) of this parameter, as fp32. */
  void readRange(FloatBuffer pw, int from, float[] dst, int n) {
    if (half == null) pw.get(off + from, dst, 0, n);
    else HalfPrecision.decode(half.type(), half.shorts(), off + from, dst, 0, n);
  }

  /**
   * The weight as an fp32 matrix for a GEMM: the view itself, or widened from two bytes into {@code
   * scratch}.
   */
  INDArray dense(Kernels.Storage scratch) {
    if (half == null) return w;
    INDArray d = scratch.view(0, w.shape()).arr();
    d.assign(w);
    return d;
  }

  /** grad[off + i] += d[i]. */
  void addGradient(FloatBuffer gw, float[] d) {
    for (int i = 0; i < length; i++) gw.put(off + i, gw.get(off + i) + d[i]);
  }
}
