package dev.flantune.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019) with PyTorch's exact
 * arithmetic: p ← p·(1 − lr·wd) for decayed parameters, then
 * p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
 *
 * <p>ND4J's own Adam puts ε inside the bias correction differently, which is why this exists. All
 * updates are in place; one scratch buffer per parameter shape is reused across steps.
 */
public final class AdamW {
  /** Hyper-parameters; the learning rate comes per step from the schedule. */
  public record Settings(double beta1, double beta2, double eps, double weightDecay) {}

  private final Settings s;
  private final Map<String, INDArray> m = new LinkedHashMap<>();
  private final Map<String, INDArray> v = new LinkedHashMap<>();
  private final Map<String, Boolean> decays = new LinkedHashMap<>();
  private final Map<String, INDArray> scratch = new LinkedHashMap<>();
  private long step;

  public AdamW(Settings settings, Map<String, INDArray> params, java.util.function.Predicate<String> decays) {
    this.s = settings;
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      INDArray p = e.getValue();
      m.put(e.getKey(), Nd4j.zeros(p.dataType(), p.shape()));
      v.put(e.getKey(), Nd4j.zeros(p.dataType(), p.shape()));
      scratch.put(e.getKey(), Nd4j.zeros(p.dataType(), p.shape()));
      this.decays.put(e.getKey(), decays.test(e.getKey()));
    }
  }

  /** Applies one update with learning rate {@code lr} to every parameter from its gradient. */
  public void update(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
    step++;
    double bc1 = 1 - Math.pow(s.beta1(), step);
    double sqrtBc2 = Math.sqrt(1 - Math.pow(s.beta2(), step));
    for (Map.Entry<String, INDArray> e : params.entrySet()) {
      String name = e.getKey();
      INDArray p = e.getValue();
      INDArray g = grads.get(name);
      INDArray mt = m.get(name), vt = v.get(name), tmp = scratch.get(name);
      if (decays.get(name) && s.weightDecay() != 0) p.muli(1 - lr * s.weightDecay());
      mt.muli(s.beta1()).addi(tmp.assign(g).muli(1 - s.beta1()));
      vt.muli(s.beta2()).addi(tmp.assign(g).muli(g).muli(1 - s.beta2()));
      Transforms.sqrt(tmp.assign(vt), false).divi(sqrtBc2).addi(s.eps()); // denominator
      tmp.rdivi(mt).muli(lr / bc1); // m / denom · lr / bc1
      p.subi(tmp);
    }
  }

  /** Updates applied so far. */
  public long step() {
    return step;
  }

  /** First and second moments by parameter name (for checkpoints). */
  public Map<String, INDArray> firstMoments() {
    return m;
  }

  public Map<String, INDArray> secondMoments() {
    return v;
  }

  /** Restores the state written by a checkpoint. */
  public void restore(long step, Map<String, float[]> first, Map<String, float[]> second) {
    this.step = step;
    for (String name : m.keySet()) {
      m.get(name).assign(Nd4j.createFromArray(first.get(name)).reshape(m.get(name).shape()));
      v.get(name).assign(Nd4j.createFromArray(second.get(name)).reshape(v.get(name).shape()));
    }
  }
}
