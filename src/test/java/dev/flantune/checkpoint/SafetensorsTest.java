package dev.flantune.checkpoint;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader rejects every malformed header with a message naming file and tensor. */
class SafetensorsTest {
  @TempDir Path dir;

  /** Writes a file with the given header JSON and {@code dataBytes} bytes of data. */
  private Path file(String header, int dataBytes) throws IOException {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = dir.resolve("model.safetensors");
    Files.write(f, b.array());
    return f;
  }

  private static String error(Path f) {
    FlanTuneException e = assertThrows(FlanTuneException.class, () -> Safetensors.read(f));
    assertEquals(FlanTuneException.Kind.BAD_INPUT, e.kind());
    assertFalse(e.getMessage().contains("\n"), "one-line message");
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    return e.getMessage();
  }

  @Test
  void roundTripsEveryDtype() throws IOException {
    float[] values = {0f, 1f, -2.5f, 3.140625f, 65504f, 1e-3f, -7.75e-5f, Float.MIN_NORMAL};
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("a", Tensor.ofFloats(new long[] {2, 4}, values));
    t.put("ids", Tensor.ofInts(new long[] {3}, new int[] {1, -2, 50256}));
    for (DType dt : new DType[] {DType.F32, DType.F16, DType.BF16}) {
      Path f = dir.resolve("x-" + dt + ".safetensors");
      Safetensors.write(f, t, dt, Map.of("format", "pt"));
      Map<String, Tensor> back = Safetensors.read(f);
      assertEquals(dt, back.get("a").storedAs());
      assertArrayEquals(new int[] {1, -2, 50256}, back.get("ids").ints());
      for (int i = 0; i < values.length; i++) {
        float tol =
            dt == DType.F32
                ? 0
                : dt == DType.F16
                    ? Math.abs(values[i]) * 1e-3f + 1e-7f
                    : Math.abs(values[i]) * 8e-3f;
        assertEquals(values[i], back.get("a").data()[i], tol, dt + " value " + i);
      }
      // Writing what was read gives the same bytes: no drift on repeated save.
      Path again = dir.resolve("y-" + dt + ".safetensors");
      Safetensors.write(again, back, dt, Map.of("format", "pt"));
      assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(again));
    }
  }

  @Test
  void halfPrecisionConversionsAreExactWhereRepresentable() {
    for (int bits = 0; bits < 0x10000; bits++) {
      short h = (short) bits;
      float f = Half.toFloat(h);
      if (Float.isNaN(f)) continue;
      assertEquals(h, Half.fromFloat(f), "f16 bits " + Integer.toHexString(bits));
      short b = (short) bits;
      float fb = Float.intBitsToFloat((b & 0xffff) << 16);
      if (!Float.isNaN(fb)) assertEquals(b, Safetensors.toBf16(fb));
    }
    assertEquals(Half.toFloat((short) 0x3c00), 1f);
    assertEquals(1f, Half.toFloat(Half.fromFloat(1.0004f))); // rounds to nearest
  }

  @Test
  void headerLengthBeyondFileIsRefused() throws IOException {
    Path f = dir.resolve("big.safetensors");
    ByteBuffer b =
        ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).putLong(0);
    Files.write(f, b.array());
    assertTrue(error(f).contains("header length"));
  }

  @Test
  void truncatedFileIsRefused() throws IOException {
    Path f = dir.resolve("short.safetensors");
    Files.write(f, new byte[] {1, 2, 3});
    assertTrue(error(f).contains("too short"));
  }

  @Test
  void invalidJsonIsRefused() throws IOException {
    assertTrue(error(file("{\"a\": {\"dtype\": ", 0)).contains("not valid JSON"));
  }

  @Test
  void duplicateKeysAreRefused() throws IOException {
    String e = "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
    assertTrue(error(file("{\"a\":" + e + ",\"a\":" + e + "}", 4)).contains("not valid JSON"));
  }

  @Test
  void offsetsOutsideTheFileAreRefused() throws IOException {
    String msg =
        error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
    assertTrue(msg.contains("'w'") && msg.contains("outside"), msg);
  }

  @Test
  void overlappingTensorsAreRefused() throws IOException {
    String msg =
        error(
            file(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12));
    assertTrue(msg.contains("overlap") && msg.contains("'a'") && msg.contains("'b'"), msg);
  }

  @Test
  void shapeNotMatchingTheSpanIsRefused() throws IOException {
    String msg =
        error(file("{\"w\":{\"dtype\":\"F16\",\"shape\":[3,2],\"data_offsets\":[0,8]}}", 8));
    assertTrue(msg.contains("'w'") && msg.contains("needs 12 bytes"), msg);
  }

  @Test
  void negativeOrReversedOffsetsAreRefused() throws IOException {
    assertTrue(
        error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4))
            .contains("'w'"));
    assertTrue(
        error(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,0]}}", 4))
            .contains("'w'"));
  }

  @Test
  void unsupportedDtypeIsNamed() throws IOException {
    String msg =
        error(file("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
    assertTrue(msg.contains("F8_E4M3") && msg.contains("'w'"), msg);
  }

  @Test
  void hugeShapeDoesNotOverflow() throws IOException {
    String msg =
        error(
            file(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}",
                4));
    assertTrue(msg.contains("'w'"), msg);
  }
}
