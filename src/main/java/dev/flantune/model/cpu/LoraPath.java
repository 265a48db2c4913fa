package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Kernels.gemm;

import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The low-rank path a LoRA adapter adds beside one frozen projection: y[:, col, col + width) +=
 * s·(drop(x)·Aᵀ)·Bᵀ, with A [r, in] and B [width, r] views into the adapter's buffer. W + s·B·A is
 * never formed: the two thin GEMMs cost 2·r·(in + width) per token against in·width for W.
 *
 * <p>Dropout (training only) keeps an element with probability 1 − p and scales it by 1/(1 − p);
 * its mask is a hash of (step key, path, element), so the backward regenerates it instead of
 * storing it, and a resumed run draws the same masks as an uninterrupted one.
 */
final class LoraPath {
  final INDArray a, b; // [r, in], [width, r]
  INDArray ga, gb; // their gradients once training
  final int col, width, r, in, index;
  final float scale;
  private Storage h; // [N, r]: x·Aᵀ, kept for the backward
  private int hCapacity;

  LoraPath(INDArray a, INDArray b, int col, double scale, int index) {
    this.a = a;
    this.b = b;
    this.col = col;
    this.r = (int) a.size(0);
    this.in = (int) a.size(1);
    this.width = (int) b.size(0);
    this.scale = (float) scale;
    this.index = index;
  }

  /** Buffers the paths of one engine share, and whether (and how) this pass drops out. */
  static final class Scratch {
    final double dropout;
    boolean training;
    long key; // the dropout masks' seed for this micro-batch
    private Storage cols, dh, xd;
    private long colsCap, dhCap, xdCap;

    Scratch(double dropout) {
      this.dropout = dropout;
    }

    boolean dropping() {
      return training && dropout > 0;
    }

    Buf cols(int n, int w) {
      if ((long) n * w > colsCap) cols = grow(cols, colsCap = (long) n * w);
      return cols.rows(n, w);
    }

    Buf dh(int n, int r) {
      if ((long) n * r > dhCap) dh = grow(dh, dhCap = (long) n * r);
      return dh.rows(n, r);
    }

    Buf xd(int n, int in) {
      if ((long) n * in > xdCap) xd = grow(xd, xdCap = (long) n * in);
      return xd.rows(n, in);
    }

    private static Storage grow(Storage old, long cap) {
      if (old != null) old.close();
      return new Storage(cap);
    }
  }

  private Buf h(int n) {
    if (n > hCapacity) {
      if (h != null) h.close();
      h = new Storage((long) n * r);
      hCapacity = n;
    }
    return h.rows(n, r);
  }

  /** y [n, yWidth] += s·(drop(x)·Aᵀ)·Bᵀ in columns [col, col + width). */
  void forward(Buf x, Buf y, int n, int yWidth, Scratch s) {
    Buf xin = s.dropping() ? dropped(x, n, s) : x;
    Buf hb = h(n);
    gemm(xin.arr(), false, a, true, hb.arr(), 1, 0);
    if (width == yWidth) {
      gemm(hb.arr(), false, b, true, y.arr(), scale, 1);
    } else {
      Buf t = s.cols(n, width);
      gemm(hb.arr(), false, b, true, t.arr(), scale, 0);
      addColumns(t.fb(), y.fb(), n, yWidth);
    }
  }

  /** dB += s·dyᵀ·h, dA += dhᵀ·drop(x) with dh = s·dy·B, and dx += drop'(dh·A). */
  void backward(Buf x, Buf dy, Buf dx, int n, int yWidth, Scratch s) {
    Buf dyPart = dy;
    if (width != yWidth) {
      dyPart = s.cols(n, width);
      gatherColumns(dy.fb(), dyPart.fb(), n, yWidth);
    }
    Buf hb = h(n);
    gemm(dyPart.arr(), true, hb.arr(), false, gb, scale, 1);
    Buf dh = s.dh(n, r);
    gemm(dyPart.arr(), false, b, false, dh.arr(), scale, 0);
    boolean drop = s.dropping();
    Buf xin = drop ? dropped(x, n, s) : x;
    gemm(dh.arr(), true, xin.arr(), false, ga, 1, 1);
    if (dx == null) return;
    if (!drop) {
      gemm(dh.arr(), false, a, false, dx.arr(), 1, 1);
    } else {
      Buf t = s.xd(n, in); // drop(x) is no longer needed
      gemm(dh.arr(), false, a, false, t.arr(), 1, 0);
      applyMask(t.fb(), dx.fb(), n, s, true);
    }
  }

  private Buf dropped(Buf x, int n, Scratch s) {
    Buf xd = s.xd(n, in);
    Kernels.copyAddRows(x.fb(), null, xd.fb(), n, in);
    applyMask(xd.fb(), xd.fb(), n, s, false);
    return xd;
  }

  /**
   * out = src ⊙ mask/(1 − p), or out += that with {@code accumulate}; the mask is the same for the
   * same (key, path, element).
   */
  private void applyMask(FloatBuffer src, FloatBuffer out, int n, Scratch s, boolean accumulate) {
    double p = s.dropout;
    float keepScale = (float) (1 / (1 - p));
    long threshold = (long) (p * (1L << 24));
    long base = s.key * 0x9E3779B97F4A7C15L + (long) index * 0xC2B2AE3D27D4EB4FL;
    Parallel.range(
        n,
        in,
        (from, to) -> {
          float[] row = new float[in], acc = new float[in];
          for (int i = from; i < to; i++) {
            src.get(i * in, row, 0, in);
            if (accumulate) out.get(i * in, acc, 0, in);
            for (int c = 0; c < in; c++) {
              long z = mix(base + (long) i * in + c);
              float v = (z >>> 40) < threshold ? 0f : row[c] * keepScale;
              acc[c] = accumulate ? acc[c] + v : v;
            }
            out.put(i * in, acc, 0, in);
          }
        });
  }

  /** SplitMix64's finalizer: a well-mixed 64-bit value per counter. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  private void addColumns(FloatBuffer t, FloatBuffer y, int n, int yWidth) {
    Parallel.range(
        n,
        width,
        (from, to) -> {
          float[] tr = new float[width], yr = new float[width];
          for (int i = from; i < to; i++) {
            t.get(i * width, tr, 0, width);
            y.get(i * yWidth + col, yr, 0, width);
            for (int c = 0; c < width; c++) yr[c] += tr[c];
            y.put(i * yWidth + col, yr, 0, width);
          }
        });
  }

  private void gatherColumns(FloatBuffer dy, FloatBuffer out, int n, int yWidth) {
    for (int i = 0; i < n; i++) out.put(i * width, dy, i * yWidth + col, width);
  }
}
