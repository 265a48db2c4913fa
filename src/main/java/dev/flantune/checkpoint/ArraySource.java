package dev.flantune.checkpoint;

import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A contiguous fp32 ND4J array (a parameter or optimizer-moment view) as a tensor to write: read
 * straight from native memory on CPU, a chunk at a time; elsewhere copied to the host one tensor at
 * a time.
 */
public final class ArraySource implements Safetensors.Source {
  private final INDArray array;
  private float[] host; // non-CPU backends only

  public ArraySource(INDArray array) {
    this.array = array;
  }

  @Override
  public long[] shape() {
    return array.shape();
  }

  @Override
  public boolean isInt() {
    return false;
  }

  @Override
  public int[] ints() {
    return null;
  }

  @Override
  public void floats(long from, float[] dst, int len) {
    if (Nd4j.getEnvironment().isCPU()
        && array.elementWiseStride() == 1
        && array.ordering() == 'c') {
      FloatBuffer fb = array.data().asNioFloat();
      fb.get(Math.toIntExact(array.offset() + from), dst, 0, len);
      return;
    }
    if (host == null) host = array.dup('c').data().asFloat();
    System.arraycopy(host, Math.toIntExact(from), dst, 0, len);
  }
}
