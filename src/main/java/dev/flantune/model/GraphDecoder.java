package dev.flantune.model;

import dev.flantune.data.Batch;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Decoding on the graph engine: each step runs the model's graph over the whole sequence so far and
 * reads the last position's logits. It keeps no key/value cache, so a step costs the full sequence;
 * in exchange the graph is the only wiring, and on a GPU (where the graph engine runs) a forward
 * pass over a few hundred positions is cheap. The CPU engine's decoder keeps a cache.
 */
public final class GraphDecoder implements Decoder {
  private final CausalLm model;
  private int[] tokens = new int[0];

  public GraphDecoder(CausalLm model) {
    this.model = model;
  }

  @Override
  public ModelConfig config() {
    return model.config();
  }

  @Override
  public int length() {
    return tokens.length;
  }

  @Override
  public int remaining() {
    return model.config().nPositions() - tokens.length;
  }

  @Override
  public void reset() {
    tokens = new int[0];
  }

  @Override
  public float[] append(int... more) {
    Decoder.checkAppend(more, tokens.length, model.config());
    int n = tokens.length + more.length;
    int[] ids = Arrays.copyOf(tokens, n);
    System.arraycopy(more, 0, ids, tokens.length, more.length);
    tokens = ids;
    int[] pos = new int[n], seg = new int[n];
    for (int i = 0; i < n; i++) {
      pos[i] = i;
      seg[i] = 1;
    }
    float[] mask = new float[n];
    mask[n - 1] = 1; // the head runs on the last row only
    Batch b = new Batch(1, n, ids, pos, seg, new int[n], mask);
    INDArray logits =
        model
            .graph()
            .output(
                ModelGraph.placeholders(
                    model.config(), b, new int[] {n - 1}, null, AttentionBias.of(b)),
                ModelGraph.LOGITS)
            .get(ModelGraph.LOGITS);
    return logits.reshape(-1).toFloatVector();
  }
}
