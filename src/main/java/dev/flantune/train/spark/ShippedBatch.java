package dev.flantune.train.spark;

import dev.flantune.data.Batch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/** A {@link Batch} as it travels to a partition (the arrays unchanged; ~20 bytes per token). */
record ShippedBatch(
    int rows,
    int length,
    int[] inputIds,
    int[] positionIds,
    int[] segmentIds,
    int[] labels,
    float[] lossMask)
    implements Serializable {

  static ShippedBatch of(Batch b) {
    return new ShippedBatch(
        b.rows(),
        b.length(),
        b.inputIds(),
        b.positionIds(),
        b.segmentIds(),
        b.labels(),
        b.lossMask());
  }

  Batch batch() {
    return new Batch(rows, length, inputIds, positionIds, segmentIds, labels, lossMask);
  }

  static List<Batch> batches(List<ShippedBatch> shipped) {
    List<Batch> out = new ArrayList<>(shipped.size());
    for (ShippedBatch s : shipped) out.add(s.batch());
    return out;
  }
}
