package dev.flantune.checkpoint;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header mapping each tensor
 * name to {dtype, shape, data_offsets} (offsets relative to the data section), then raw
 * little-endian data.
 *
 * <p>The reader trusts nothing in the file: the header length is bounded, the JSON validated, every
 * span must lie inside the file, spans may not overlap, and shape × dtype size must equal the span.
 */
public final class Safetensors {
  /** Headers above this are refused; real checkpoints have headers of a few hundred KB. */
  static final long MAX_HEADER_BYTES = 100L << 20;

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Safetensors() {}

  /** One tensor's entry in the header. */
  public record Entry(String name, DType dtype, long[] shape, long begin, long end) {}

  /** The parsed, validated header of a file. */
  public record Header(Map<String, Entry> entries, Map<String, String> metadata, long dataStart) {}

  /** Reads and validates the header of {@code file} without reading tensor data. */
  public static Header readHeader(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readHeader(file, ch);
    } catch (IOException e) {
      throw bad(file, "cannot read (" + e.getMessage() + ")");
    }
  }

  private static Header readHeader(Path file, FileChannel ch) throws IOException {
    long size = ch.size();
    if (size < 8) throw bad(file, "file is " + size + " bytes, too short for a safetensors header");
    ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, lenBuf, 0);
    long headerLen = lenBuf.flip().getLong();
    if (headerLen < 2 || headerLen > MAX_HEADER_BYTES || headerLen > size - 8) {
      throw bad(
          file,
          "header length "
              + Long.toUnsignedString(headerLen)
              + " is impossible for a file of "
              + size
              + " bytes; the file is truncated or not safetensors");
    }
    ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
    readFully(ch, hb, 8);
    JsonNode root;
    try {
      root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw bad(file, "header is not valid JSON (" + firstLine(e.getMessage()) + ")");
    }
    if (root == null || !root.isObject()) throw bad(file, "header must be a JSON object");
    long dataStart = 8 + headerLen;
    long dataLen = size - dataStart;
    Map<String, Entry> entries = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> f = it.next();
      if (f.getKey().equals("__metadata__")) {
        if (!f.getValue().isObject()) throw bad(file, "__metadata__ must be an object of strings");
        f.getValue()
            .fields()
            .forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        continue;
      }
      entries.put(f.getKey(), parseEntry(file, f.getKey(), f.getValue(), dataLen));
    }
    checkNoOverlap(file, entries);
    return new Header(entries, metadata, dataStart);
  }

  private static Entry parseEntry(Path file, String name, JsonNode e, long dataLen) {
    if (!e.isObject()) throw bad(file, "tensor '" + name + "': entry must be an object");
    DType dtype = DType.parse(e.path("dtype").asText(""));
    if (dtype == null) {
      throw bad(
          file,
          "tensor '"
              + name
              + "': dtype '"
              + e.path("dtype").asText()
              + "' is not supported (F32, F16, BF16, I32, I64)");
    }
    JsonNode shapeNode = e.get("shape");
    JsonNode offs = e.get("data_offsets");
    if (shapeNode == null || !shapeNode.isArray())
      throw bad(file, "tensor '" + name + "': missing shape");
    if (offs == null || !offs.isArray() || offs.size() != 2) {
      throw bad(file, "tensor '" + name + "': data_offsets must be [begin, end]");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      JsonNode d = shapeNode.get(i);
      if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
        throw bad(file, "tensor '" + name + "': shape " + shapeNode + " has a bad dimension");
      }
      shape[i] = d.asLong();
    }
    for (JsonNode o : offs) {
      if (!o.isIntegralNumber() || !o.canConvertToLong() || o.asLong() < 0) {
        throw bad(
            file, "tensor '" + name + "': data_offsets " + offs + " must be non-negative integers");
      }
    }
    long begin = offs.get(0).asLong();
    long end = offs.get(1).asLong();
    if (begin > end || end > dataLen) {
      throw bad(
          file,
          "tensor '"
              + name
              + "': data_offsets ["
              + begin
              + ", "
              + end
              + "] lie outside the "
              + dataLen
              + "-byte data section; the file is truncated or corrupt");
    }
    long expected;
    try {
      expected = Math.multiplyExact(Tensor.numel(shape), dtype.bytes);
    } catch (ArithmeticException ex) {
      throw bad(file, "tensor '" + name + "': shape " + shapeNode + " overflows");
    }
    if (expected != end - begin) {
      throw bad(
          file,
          "tensor '"
              + name
              + "': shape "
              + shapeNode
              + " of "
              + dtype
              + " needs "
              + expected
              + " bytes but data_offsets span "
              + (end - begin));
    }
    return new Entry(name, dtype, shape, begin, end);
  }

  private static void checkNoOverlap(Path file, Map<String, Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries.values());
    sorted.sort((a, b) -> Long.compare(a.begin, b.begin));
    for (int i = 1; i < sorted.size(); i++) {
      Entry prev = sorted.get(i - 1);
      Entry cur = sorted.get(i);
      if (cur.begin < prev.end) {
        throw bad(
            file, "tensors '" + prev.name + "' and '" + cur.name + "' overlap in the data section");
      }
    }
  }

  /** Reads every tensor of {@code file}, floats converted to fp32. */
  public static Map<String, Tensor> read(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      Header h = readHeader(file, ch);
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (Entry e : h.entries.values()) out.put(e.name, readTensor(file, ch, h.dataStart, e));
      return out;
    } catch (IOException e) {
      throw bad(file, "cannot read (" + e.getMessage() + ")");
    }
  }

  /** Reads one tensor of {@code file} (header already read), floats converted to fp32. */
  public static Tensor readTensor(Path file, long dataStart, Entry e) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      return readTensor(file, ch, dataStart, e);
    } catch (IOException ex) {
      throw bad(file, "cannot read (" + ex.getMessage() + ")");
    }
  }

  /**
   * Streams a float tensor of {@code file} into {@code dst} from index {@code at}, converted to
   * fp32, through a small buffer: the tensor never exists in full on the Java heap.
   */
  public static void readFloatsInto(Path file, long dataStart, Entry e, FloatBuffer dst, int at) {
    long n = Tensor.numel(e.shape);
    if (at < 0 || at + n > dst.capacity()) throw new IllegalArgumentException("destination range");
    readFloats(
        file, dataStart, e, (done, chunk, count) -> dst.put(at + (int) done, chunk, 0, count));
  }

  /**
   * Receives a tensor chunk by chunk: {@code count} values of {@code chunk} from index {@code
   * done}.
   */
  public interface FloatSink {
    void accept(long done, float[] chunk, int count);
  }

  /**
   * Streams a float tensor of {@code file} to {@code sink}, converted to fp32, through a small
   * buffer: the tensor never exists in full on the Java heap.
   */
  public static void readFloats(Path file, long dataStart, Entry e, FloatSink sink) {
    int width =
        switch (e.dtype) {
          case F32 -> 4;
          case F16, BF16 -> 2;
          default -> throw bad(file, "tensor '" + e.name + "' is not a float tensor");
        };
    long n = Tensor.numel(e.shape);
    ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
    float[] chunk = new float[buf.capacity() / width];
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long pos = dataStart + e.begin, done = 0;
      while (done < n) {
        int count = (int) Math.min(chunk.length, n - done);
        buf.clear().limit(count * width);
        readFully(ch, buf, pos);
        buf.flip();
        switch (e.dtype) {
          case F32 -> buf.asFloatBuffer().get(chunk, 0, count);
          case F16 -> {
            for (int i = 0; i < count; i++) chunk[i] = Half.toFloat(buf.getShort());
          }
          default -> {
            for (int i = 0; i < count; i++)
              chunk[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
          }
        }
        sink.accept(done, chunk, count);
        pos += (long) count * width;
        done += count;
      }
    } catch (IOException ex) {
      throw bad(file, "cannot read (" + ex.getMessage() + ")");
    }
  }

  private static Tensor readTensor(Path file, FileChannel ch, long dataStart, Entry e)
      throws IOException {
    long bytes = e.end - e.begin;
    if (bytes > Integer.MAX_VALUE - 16) {
      throw bad(
          file,
          "tensor '" + e.name + "' is larger than 2 GB, which flan-tune cannot hold in one array");
    }
    ByteBuffer buf = ByteBuffer.allocate((int) bytes).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, buf, dataStart + e.begin);
    buf.flip();
    int n = (int) Tensor.numel(e.shape);
    switch (e.dtype) {
      case F32 -> {
        float[] f = new float[n];
        buf.asFloatBuffer().get(f);
        return new Tensor(e.shape, f, null, DType.F32);
      }
      case F16 -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = Half.toFloat(buf.getShort());
        return new Tensor(e.shape, f, null, DType.F16);
      }
      case BF16 -> {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = Float.intBitsToFloat((buf.getShort() & 0xffff) << 16);
        return new Tensor(e.shape, f, null, DType.BF16);
      }
      case I32 -> {
        int[] v = new int[n];
        buf.asIntBuffer().get(v);
        return new Tensor(e.shape, null, v, DType.I32);
      }
      case I64 -> {
        int[] v = new int[n];
        for (int i = 0; i < n; i++) v[i] = Math.toIntExact(buf.getLong());
        return new Tensor(e.shape, null, v, DType.I64);
      }
      default -> throw new IllegalStateException(e.dtype.toString());
    }
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
    while (buf.hasRemaining()) {
      int r = ch.read(buf, pos);
      if (r < 0) throw new IOException("unexpected end of file");
      pos += r;
    }
  }

  /** A tensor to write: its shape and its values, read in order a chunk at a time. */
  public interface Source {
    long[] shape();

    /** Integer tensors are written as I32 from {@link #ints()}; others as floats. */
    boolean isInt();

    int[] ints();

    /** Copies values [from, from + len) (row-major) into {@code dst[0, len)}. */
    void floats(long from, float[] dst, int len);
  }

  /** Values per chunk when streaming a tensor to disk. */
  private static final int WRITE_CHUNK = 1 << 18;

  /**
   * Writes {@code tensors} (in the given order) to {@code file}: floats as {@code floatType} (F32,
   * F16 or BF16, round to nearest even), ints as I32. Each tensor streams through a small buffer,
   * so writing needs no host copy of the whole model.
   */
  public static void write(
      Path file,
      Map<String, ? extends Source> tensors,
      DType floatType,
      Map<String, String> metadata)
      throws IOException {
    if (!floatType.isFloat()) throw new IllegalArgumentException("float type " + floatType);
    ObjectNode header = JSON.createObjectNode();
    if (metadata != null && !metadata.isEmpty()) {
      ObjectNode m = header.putObject("__metadata__");
      metadata.forEach(m::put);
    }
    long offset = 0;
    for (Map.Entry<String, ? extends Source> e : tensors.entrySet()) {
      Source t = e.getValue();
      DType dt = t.isInt() ? DType.I32 : floatType;
      long bytes = Tensor.numel(t.shape()) * dt.bytes;
      ObjectNode n = header.putObject(e.getKey());
      n.put("dtype", dt.name());
      var shape = n.putArray("shape");
      for (long d : t.shape()) shape.add(d);
      var offs = n.putArray("data_offsets");
      offs.add(offset);
      offs.add(offset + bytes);
      offset += bytes;
    }
    byte[] hjson = JSON.writeValueAsBytes(header);
    int padded = (hjson.length + 7) / 8 * 8; // keeps the data section 8-byte aligned
    byte[] hbytes = new byte[padded];
    System.arraycopy(hjson, 0, hbytes, 0, hjson.length);
    for (int i = hjson.length; i < padded; i++) hbytes[i] = ' ';
    try (OutputStream os = Files.newOutputStream(file)) {
      ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
      os.write(len.array());
      os.write(hbytes);
      ByteBuffer buf = ByteBuffer.allocate(WRITE_CHUNK * 4).order(ByteOrder.LITTLE_ENDIAN);
      float[] chunk = new float[WRITE_CHUNK];
      for (Source t : tensors.values()) {
        if (t.isInt()) {
          ByteBuffer ib = ByteBuffer.allocate(t.ints().length * 4).order(ByteOrder.LITTLE_ENDIAN);
          ib.asIntBuffer().put(t.ints());
          os.write(ib.array());
          continue;
        }
        long n = Tensor.numel(t.shape());
        for (long at = 0; at < n; at += WRITE_CHUNK) {
          int count = (int) Math.min(WRITE_CHUNK, n - at);
          t.floats(at, chunk, count);
          buf.clear();
          switch (floatType) {
            case F32 -> buf.asFloatBuffer().put(chunk, 0, count);
            case F16 -> {
              for (int i = 0; i < count; i++) buf.putShort(Half.fromFloat(chunk[i]));
            }
            case BF16 -> {
              for (int i = 0; i < count; i++) buf.putShort(toBf16(chunk[i]));
            }
            default -> throw new IllegalStateException(floatType.toString());
          }
          os.write(buf.array(), 0, count * floatType.bytes);
        }
      }
    }
  }

  /** fp32 → bf16 with round-to-nearest-even; NaN stays NaN. */
  public static short toBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) return (short) ((bits >>> 16) | 0x40);
    int rounding = 0x7fff + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  private static FlanTuneException bad(Path file, String what) {
    return FlanTuneException.badInput(file + ": " + what);
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
