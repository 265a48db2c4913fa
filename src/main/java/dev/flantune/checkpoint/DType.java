package dev.flantune.checkpoint;

import java.util.Locale;

/** Safetensors element types flan-tune reads and writes. Computation is always fp32. */
public enum DType {
  F32(4),
  F16(2),
  BF16(2),
  I32(4),
  I64(8);

  public final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Parses a safetensors dtype name, or null when flan-tune does not read that type. */
  public static DType parse(String name) {
    try {
      return valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  public boolean isFloat() {
    return this == F32 || this == F16 || this == BF16;
  }
}
