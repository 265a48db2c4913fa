package dev.flantune.tasks;

import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Byte-level line access for JSONL: a sequential scan that reports each non-blank line with its
 * 1-based line number and byte offset, and random access to a line by that offset. Working on bytes
 * (not chars) is what makes offsets exact for UTF-8 text, and lets the mixture keep only offsets in
 * memory instead of examples.
 */
final class JsonlLines {
  private JsonlLines() {}

  interface LineSink {
    /** {@code bytes[0, len)} is the line without its line terminator. */
    void accept(int line, long offset, byte[] bytes, int len);
  }

  static void forEach(Path file, LineSink sink) {
    if (!Files.isRegularFile(file)) throw FlanTuneException.badInput(file + ": file not found");
    byte[] buf = new byte[1 << 16];
    byte[] line = new byte[1024];
    int len = 0;
    long lineStart = 0;
    long pos = 0;
    int number = 1;
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        for (int i = 0; i < n; i++) {
          byte b = buf[i];
          pos++;
          if (b == '\n') {
            emit(sink, number, lineStart, line, len);
            number++;
            len = 0;
            lineStart = pos;
          } else {
            if (len == line.length) line = Arrays.copyOf(line, line.length * 2);
            line[len++] = b;
          }
        }
      }
      emit(sink, number, lineStart, line, len);
    } catch (IOException e) {
      throw FlanTuneException.badInput(file + ": cannot read (" + e.getMessage() + ")", e);
    }
  }

  private static void emit(LineSink sink, int number, long offset, byte[] line, int len) {
    if (len > 0 && line[len - 1] == '\r') len--;
    for (int i = 0; i < len; i++) {
      byte b = line[i];
      if (b != ' ' && b != '\t' && b != '\r') {
        sink.accept(number, offset, line, len);
        return;
      }
    }
  }

  static RandomAccess open(Path file) {
    try {
      return new RandomAccess(file, FileChannel.open(file, StandardOpenOption.READ));
    } catch (IOException e) {
      throw FlanTuneException.badInput(file + ": cannot open (" + e.getMessage() + ")", e);
    }
  }

  /** Reads the line that starts at a byte offset (positional reads, so no shared file pointer). */
  static final class RandomAccess implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private ByteBuffer buf = ByteBuffer.allocate(4096);

    private RandomAccess(Path file, FileChannel channel) {
      this.file = file;
      this.channel = channel;
    }

    byte[] lineAt(long offset) {
      try {
        int filled = 0;
        buf.clear();
        while (true) {
          int n = channel.read(buf, offset + filled);
          int end = filled + Math.max(n, 0);
          for (int i = filled; i < end; i++) {
            if (buf.get(i) == '\n') return copy(i);
          }
          filled = end;
          if (n < 0) return copy(filled);
          if (!buf.hasRemaining()) {
            ByteBuffer bigger = ByteBuffer.allocate(buf.capacity() * 2);
            buf.flip();
            bigger.put(buf);
            buf = bigger;
          }
        }
      } catch (IOException e) {
        throw FlanTuneException.badInput(
            file + ": cannot read at byte " + offset + " (" + e.getMessage() + ")", e);
      }
    }

    private byte[] copy(int len) {
      if (len > 0 && buf.get(len - 1) == '\r') len--;
      byte[] out = new byte[len];
      buf.get(0, out, 0, len);
      return out;
    }

    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        // nothing was written; a failed close of a read-only channel loses nothing
      }
    }
  }
}
