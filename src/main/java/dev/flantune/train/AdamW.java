package dev.flantune.train;

import dev.flantune.model.FlatParameters;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.floating.Sqrt;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019) with PyTorch's exact
 * arithmetic: p ← p·(1 − lr·wd) for decayed parameters, then p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ)
 * + ε).
 *
 * <p>ND4J's own Adam puts ε inside the bias correction differently, which is why this exists. All
 * updates are in place, over one flat buffer holding every parameter; one scratch buffer is reused.
 */
public final class AdamW {
  /** Hyper-parameters; the learning rate comes per step from the schedule. */
  public record Settings(double beta1, double beta2, double eps, double weightDecay) {}

  private final Settings s;
  private final FlatParameters params;
  private final FlatParameters m, v;
  private final INDArray scratch;
  private long step;

  /**
   * AdamW over one flat parameter buffer; the tensors in its decayed prefix get weight decay (see
   * {@link FlatParameters}). Runs ~16 native ops per step whatever the number of tensors.
   */
  public AdamW(Settings settings, FlatParameters params) {
    this.s = settings;
    this.params = params;
    this.m = params.zerosLike();
    this.v = params.zerosLike();
    this.scratch = Nd4j.zeros(DataType.FLOAT, params.flat().length());
  }

  /**
   * Applies one update with learning rate {@code lr} from gradients laid out like the parameters.
   */
  public void update(FlatParameters grads, double lr) {
    step++;
    double bc1 = 1 - Math.pow(s.beta1(), step);
    double sqrtBc2 = Math.sqrt(1 - Math.pow(s.beta2(), step));
    INDArray p = params.flat(), g = grads.flat(), mt = m.flat(), vt = v.flat(), tmp = scratch;
    long decayed = params.decayedLength();
    if (s.weightDecay() != 0 && decayed > 0) {
      INDArray pd = decayed == p.length() ? p : p.get(NDArrayIndex.interval(0, decayed));
      pd.muli(1 - lr * s.weightDecay());
    }
    // PyTorch: m.mul_(β1).add_(g, alpha=1−β1); v.mul_(β2).addcmul_(g, g, value=1−β2);
    // denom = (√v / √bc2).add_(ε); p.addcdiv_(m, denom, value=−lr/bc1). The alpha-adds as BLAS
    // axpy: 10 passes over the buffer instead of 16.
    var blas = Nd4j.getBlasWrapper().level1();
    long n = p.length();
    blas.axpy(n, 1 - s.beta1(), g, mt.muli(s.beta1()));
    blas.axpy(n, 1 - s.beta2(), Nd4j.exec(new MulOp(g, g, tmp))[0], vt.muli(s.beta2()));
    Nd4j.exec(new Sqrt(vt, tmp)).divi(sqrtBc2).addi(s.eps()); // denominator
    blas.axpy(n, -lr / bc1, tmp.rdivi(mt), p); // p −= lr/bc1 · m / denom
  }

  /** Updates applied so far. */
  public long step() {
    return step;
  }

  /** First and second moments by parameter name (for checkpoints). */
  public Map<String, INDArray> firstMoments() {
    return m.views();
  }

  public Map<String, INDArray> secondMoments() {
    return v.views();
  }

  /** Restores the state written by a checkpoint. */
  public void restore(long step, Map<String, float[]> first, Map<String, float[]> second) {
    this.step = step;
    for (String name : m.views().keySet()) {
      INDArray mv = m.views().get(name), vv = v.views().get(name);
      mv.assign(Nd4j.createFromArray(first.get(name)).reshape(mv.shape()));
      vv.assign(Nd4j.createFromArray(second.get(name)).reshape(vv.shape()));
    }
  }
}
