package dev.flantune.train.spark;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Vectors cross Spark in chunks: split, copied back and summed element for element. */
class FloatChunksTest {
  @Test
  void splitCopyAndAddRoundTripThroughUnevenChunks() {
    var whole = Nd4j.rand(DataType.FLOAT, 103);
    var view = whole.get(NDArrayIndex.interval(3, 103)); // an offset view, as parameter views are
    byte[][] chunks = FloatChunks.split(view, 7);
    assertEquals(15, chunks.length);
    assertEquals(2 * Float.BYTES, chunks[14].length);
    assertEquals(100, FloatChunks.length(chunks));
    assertArrayEquals(view.toFloatVector(), concat(chunks));

    var target = Nd4j.zeros(DataType.FLOAT, 100);
    FloatChunks.copyInto(chunks, target);
    assertArrayEquals(view.toFloatVector(), target.toFloatVector());
    FloatChunks.addInto(chunks, target);
    float[] twice = view.toFloatVector();
    for (int i = 0; i < twice.length; i++) twice[i] += twice[i];
    assertArrayEquals(twice, target.toFloatVector());

    assertThrows(
        IllegalStateException.class,
        () -> FloatChunks.copyInto(chunks, Nd4j.zeros(DataType.FLOAT, 99)));
  }

  static float[] concat(byte[][] chunks) {
    var all = java.nio.ByteBuffer.allocate((int) FloatChunks.length(chunks) * Float.BYTES);
    for (byte[] c : chunks) all.put(c);
    float[] out = new float[(int) FloatChunks.length(chunks)];
    all.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
    return out;
  }
}
