package dev.flantune.model;

import dev.flantune.checkpoint.Half;
import dev.flantune.checkpoint.Safetensors;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Two-byte parameter storage (bfloat16 or IEEE half) for a frozen base: values are rounded to
 * nearest even once, when loaded, and widened exactly to fp32 wherever a kernel reads them.
 */
public final class HalfPrecision {
  private HalfPrecision() {}

  /** Whether {@code t} is a two-byte float storage this class reads. */
  public static boolean isHalf(DataType t) {
    return t == DataType.BFLOAT16 || t == DataType.HALF;
  }

  /** The storage of a BFLOAT16 or HALF array as shorts, indexed by element. */
  public static ShortBuffer shorts(INDArray flat) {
    return flat.data().asNio().order(ByteOrder.nativeOrder()).asShortBuffer();
  }

  public static short encode(DataType t, float f) {
    return t == DataType.BFLOAT16 ? Safetensors.toBf16(f) : Half.fromFloat(f);
  }

  /** dst[at, at + n) = src[0, n) rounded to {@code t}. */
  public static void encode(DataType t, float[] src, int n, ShortBuffer dst, int at) {
    for (int i = 0; i < n; i++) dst.put(at + i, encode(t, src[i]));
  }

  public static float decode(DataType t, short s) {
    return t == DataType.BFLOAT16 ? Float.intBitsToFloat((s & 0xffff) << 16) : Half.toFloat(s);
  }

  /** dst[off, off + n) = the fp32 values of src[at, at + n). */
  public static void decode(DataType t, ShortBuffer src, int at, float[] dst, int off, int n) {
    short[] s = new short[n];
    src.get(at, s, 0, n);
    if (t == DataType.BFLOAT16) {
      for (int i = 0; i < n; i++) dst[off + i] = Float.intBitsToFloat((s[i] & 0xffff) << 16);
    } else {
      for (int i = 0; i < n; i++) dst[off + i] = Half.toFloat(s[i]);
    }
  }
}
