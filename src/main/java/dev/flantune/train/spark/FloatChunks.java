package dev.flantune.train.spark;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A flat fp32 vector (parameters or gradients) as Java arrays of at most {@link #DEFAULT_CHUNK}
 * floats, the form in which it crosses Spark: one Java array or serialized buffer must stay under 2
 * GB, and smaller pieces let Spark's block manager stream them.
 */
final class FloatChunks {
  /** 2^26 floats = 256 MB per array. */
  static final int DEFAULT_CHUNK = 1 << 26;

  private FloatChunks() {}

  /** Copies {@code flat} [P] into arrays of at most {@code chunk} floats. */
  static float[][] split(INDArray flat, int chunk) {
    long n = flat.length();
    int count = (int) ((n + chunk - 1) / chunk);
    float[][] out = new float[count][];
    boolean cpu = Nd4j.getEnvironment().isCPU();
    for (int c = 0; c < count; c++) {
      long from = (long) c * chunk;
      int len = (int) Math.min(chunk, n - from);
      if (cpu) {
        out[c] = new float[len];
        flat.data().asNioFloat().get(Math.toIntExact(flat.offset() + from), out[c], 0, len);
      } else {
        out[c] = flat.get(NDArrayIndex.interval(from, from + len)).toFloatVector();
      }
    }
    return out;
  }

  static long length(float[][] chunks) {
    long n = 0;
    for (float[] c : chunks) n += c.length;
    return n;
  }

  /** Overwrites {@code flat} with the chunks' contents. */
  static void copyInto(float[][] chunks, INDArray flat) {
    requireLength(chunks, flat);
    long at = 0;
    for (float[] c : chunks) {
      if (Nd4j.getEnvironment().isCPU()) {
        flat.data().asNioFloat().put(Math.toIntExact(flat.offset() + at), c);
      } else {
        flat.get(NDArrayIndex.interval(at, at + c.length)).assign(Nd4j.createFromArray(c));
      }
      at += c.length;
    }
  }

  /**
   * {@code flat += chunks}, element by element in fp32 (the order of partitions is the caller's).
   */
  static void addInto(float[][] chunks, INDArray flat) {
    requireLength(chunks, flat);
    long at = 0;
    for (float[] c : chunks) {
      if (Nd4j.getEnvironment().isCPU()) {
        var buf = flat.data().asNioFloat();
        int off = Math.toIntExact(flat.offset() + at);
        float[] cur = new float[c.length];
        buf.get(off, cur, 0, c.length);
        for (int i = 0; i < c.length; i++) cur[i] += c[i];
        buf.put(off, cur);
      } else {
        flat.get(NDArrayIndex.interval(at, at + c.length)).addi(Nd4j.createFromArray(c));
      }
      at += c.length;
    }
  }

  private static void requireLength(float[][] chunks, INDArray flat) {
    if (length(chunks) != flat.length()) {
      throw new IllegalStateException(
          "a vector of " + length(chunks) + " floats for a buffer of " + flat.length());
    }
  }
}
