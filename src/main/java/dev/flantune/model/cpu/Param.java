package dev.flantune.model.cpu;

import java.nio.FloatBuffer;
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
  INDArray g;

  Param(INDArray w, int off) {
    this.w = w;
    this.off = off;
    this.length = Math.toIntExact(w.length());
  }

  /** A copy of the values (bias and gain vectors, read once per kernel call). */
  float[] read(FloatBuffer pw) {
    float[] v = new float[length];
    pw.get(off, v, 0, length);
    return v;
  }

  /** grad[off + i] += d[i]. */
  void addGradient(FloatBuffer gw, float[] d) {
    for (int i = 0; i < length; i++) gw.put(off + i, gw.get(off + i) + d[i]);
  }
}
