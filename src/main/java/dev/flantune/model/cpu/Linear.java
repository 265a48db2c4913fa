package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.gemm;

import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;

/**
 * y = x·W + b over N rows, with W stored either as GPT-2's Conv1D [in, out] or as torch's Linear
 * [out, in] ({@code outIn}); the bias is optional. Forward, backward and the one-row product that
 * decoding uses.
 */
final class Linear {
  final Param w;
  final Param b; // null: no bias
  final boolean outIn;
  final int in, out;

  /** LoRA paths beside the frozen W (empty without an adapter), each on a range of outputs. */
  final java.util.List<LoraPath> lora = new java.util.ArrayList<>();

  private LoraPath.Scratch scratch;
  private Kernels.Storage widened; // shared fp32 scratch when W is held in two bytes

  void widenInto(Kernels.Storage shared) {
    widened = shared;
  }

  Linear(Param w, Param b, boolean outIn) {
    this.w = w;
    this.b = b;
    this.outIn = outIn;
    this.in = (int) w.w.size(outIn ? 1 : 0);
    this.out = (int) w.w.size(outIn ? 0 : 1);
  }

  void addLora(LoraPath path, LoraPath.Scratch shared) {
    lora.add(path);
    scratch = shared;
  }

  /**
   * y = x·W + b, or y = residual + x·W + b when {@code residual} is given: the bias (and residual)
   * rows are written first and ride on the GEMM (β = 1). LoRA paths add their low-rank products.
   */
  void forward(Buf x, Buf y, FloatBuffer residual, FloatBuffer pw, int n) {
    float[] bias = b == null ? null : b.read(pw);
    double beta = 1;
    if (residual != null) Kernels.copyAddRows(residual, bias, y.fb(), n, out);
    else if (bias != null) Kernels.fillRows(y.fb(), bias, n, out);
    else beta = 0;
    gemm(x.arr(), false, w.dense(widened), outIn, y.arr(), 1, beta);
    for (LoraPath p : lora) p.forward(x, y, n, out, scratch);
  }

  /**
   * Adds dW (and db) from x and dy unless W is frozen (no gradient buffer); writes dx = dy·Wᵀ (or
   * adds it when {@code dxBeta} = 1) unless {@code dx} is null; then the LoRA paths add their
   * gradients and their part of dx. {@code ones} is a [1, N] row of ones for the bias gradient.
   */
  void backward(Buf x, Buf dy, Buf dx, double dxBeta, Buf ones, int n) {
    if (b != null && b.g != null) gemm(ones.arr(), false, dy.arr(), false, b.g, 1, 1);
    if (w.g != null) {
      if (outIn) gemm(dy.arr(), true, x.arr(), false, w.g, 1, 1); // [out, N]·[N, in]
      else gemm(x.arr(), true, dy.arr(), false, w.g, 1, 1); // [in, N]·[N, out]
    }
    if (dx != null) gemm(dy.arr(), false, w.dense(widened), !outIn, dx.arr(), 1, dxBeta);
    for (LoraPath p : lora) p.backward(x, dy, dx, n, out, scratch);
  }

  /**
   * out (+)= x·W + b for one row, streaming W from the flat buffer through Java arrays, each thread
   * taking a range of outputs (memory-bound: one pass over W).
   */
  void row(float[] x, float[] y, boolean accumulate, FloatBuffer pw) {
    if (!lora.isEmpty())
      throw new IllegalStateException("decoding runs on merged weights, not an unmerged adapter");
    float[] bias = b == null ? null : b.read(pw);
    Parallel.range(
        out,
        in,
        (from, to) -> {
          int len = to - from;
          float[] acc = new float[len];
          if (outIn) {
            float[] wr = new float[in];
            for (int o = 0; o < len; o++) {
              pw.get(w.off + (from + o) * in, wr, 0, in);
              acc[o] = Kernels.dot(x, 0, wr, 0, in);
            }
          } else {
            float[] wr = new float[len];
            for (int i = 0; i < in; i++) {
              pw.get(w.off + i * out + from, wr, 0, len);
              float xi = x[i];
              for (int o = 0; o < len; o++) acc[o] += xi * wr[o];
            }
          }
          for (int o = 0; o < len; o++) {
            float v = acc[o] + (bias == null ? 0f : bias[from + o]);
            y[from + o] = accumulate ? y[from + o] + v : v;
          }
        });
  }
}
