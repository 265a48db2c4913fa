package dev.flantune.train.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A flat fp32 vector (parameters or gradients) as byte arrays of at most {@link #DEFAULT_CHUNK}
 * floats each (little-endian), the form in which it crosses Spark.
 *
 * <p>Why bytes: Java serialization writes a float[] element by element (measured ≈ 30 MB/s through
 * a task result here), a byte[] in one copy. Why chunks: one Java array or serialized buffer must
 * stay under 2 GB, and smaller pieces let Spark's block manager stream them.
 */
final class FloatChunks {
  /** 2^26 floats = 256 MB per array. */
  static final int DEFAULT_CHUNK = 1 << 26;

  private FloatChunks() {}

  /** Copies {@code flat} [P] into arrays of at most {@code chunk} floats. */
  static byte[][] split(INDArray flat, int chunk) {
    long n = flat.length();
    int count = (int) ((n + chunk - 1) / chunk);
    byte[][] out = new byte[count][];
    for (int c = 0; c < count; c++) {
      long from = (long) c * chunk;
      int len = (int) Math.min(chunk, n - from);
      out[c] = new byte[len * Float.BYTES];
      FloatBuffer dst = floats(out[c]);
      if (Nd4j.getEnvironment().isCPU()) {
        FloatBuffer src = flat.data().asNioFloat();
        int off = Math.toIntExact(flat.offset() + from);
        dst.put(src.slice(off, len));
      } else {
        dst.put(flat.get(NDArrayIndex.interval(from, from + len)).toFloatVector());
      }
    }
    return out;
  }

  static long length(byte[][] chunks) {
    long n = 0;
    for (byte[] c : chunks) n += c.length / Float.BYTES;
    return n;
  }

  /** Overwrites {@code flat} with the chunks' contents. */
  static void copyInto(byte[][] chunks, INDArray flat) {
    requireLength(chunks, flat);
    long at = 0;
    for (byte[] c : chunks) {
      FloatBuffer src = floats(c);
      int len = src.remaining();
      if (Nd4j.getEnvironment().isCPU()) {
        flat.data().asNioFloat().slice(Math.toIntExact(flat.offset() + at), len).put(src);
      } else {
        float[] host = new float[len];
        src.get(host);
        flat.get(NDArrayIndex.interval(at, at + len)).assign(Nd4j.createFromArray(host));
      }
      at += len;
    }
  }

  /**
   * {@code flat += chunks}, element by element in fp32 (the order of partitions is the caller's).
   */
  static void addInto(byte[][] chunks, INDArray flat) {
    requireLength(chunks, flat);
    long at = 0;
    int block = 1 << 16;
    float[] cur = new float[block], add = new float[block];
    for (byte[] c : chunks) {
      FloatBuffer src = floats(c);
      int len = src.remaining();
      if (Nd4j.getEnvironment().isCPU()) {
        FloatBuffer dst = flat.data().asNioFloat().slice(Math.toIntExact(flat.offset() + at), len);
        for (int i = 0; i < len; i += block) {
          int m = Math.min(block, len - i);
          dst.get(i, cur, 0, m);
          src.get(i, add, 0, m);
          for (int k = 0; k < m; k++) cur[k] += add[k];
          dst.put(i, cur, 0, m);
        }
      } else {
        float[] host = new float[len];
        src.get(host);
        flat.get(NDArrayIndex.interval(at, at + len)).addi(Nd4j.createFromArray(host));
      }
      at += len;
    }
  }

  private static FloatBuffer floats(byte[] bytes) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
  }

  private static void requireLength(byte[][] chunks, INDArray flat) {
    if (length(chunks) != flat.length()) {
      throw new IllegalStateException(
          "a vector of " + length(chunks) + " floats for a buffer of " + flat.length());
    }
  }
}
