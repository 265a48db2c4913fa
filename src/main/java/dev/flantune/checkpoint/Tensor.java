package dev.flantune.checkpoint;

import java.util.Arrays;

/**
 * A named host tensor in row-major order. Floating-point data is held as fp32 whatever its stored
 * dtype ({@link #storedAs}); integer tensors (test fixtures) keep exact values as ints.
 */
public record Tensor(long[] shape, float[] data, int[] ints, DType storedAs)
    implements Safetensors.Source {

  public static Tensor ofFloats(long[] shape, float[] data) {
    return new Tensor(shape, data, null, DType.F32);
  }

  public static Tensor ofInts(long[] shape, int[] data) {
    return new Tensor(shape, null, data, DType.I32);
  }

  public long numel() {
    return numel(shape);
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) n = Math.multiplyExact(n, d);
    return n;
  }

  @Override
  public boolean isInt() {
    return ints != null;
  }

  @Override
  public void floats(long from, float[] dst, int len) {
    System.arraycopy(data, Math.toIntExact(from), dst, 0, len);
  }

  public String shapeString() {
    return Arrays.toString(shape);
  }
}
