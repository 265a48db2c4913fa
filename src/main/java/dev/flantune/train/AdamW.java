package dev.flantune.train;

import dev.flantune.model.FlatParameters;
import dev.flantune.model.cpu.OptimizerKernels;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
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
 * updates are in place, over one flat buffer holding every parameter: on CPU one fused pass,
 * elsewhere ~10 native ops with one reused scratch buffer.
 */
public final class AdamW {
  /** Hyper-parameters; the learning rate comes per step from the schedule. */
  public record Settings(double beta1, double beta2, double eps, double weightDecay)
      implements java.io.Serializable {}

  private final Settings s;
  private final FlatParameters params;
  private final FlatParameters m, v;
  private final boolean fused;
  private INDArray scratch; // for the native-op path only
  private long step;

  /**
   * AdamW over one flat parameter buffer; the tensors in its decayed prefix get weight decay (see
   * {@link FlatParameters}).
   */
  public AdamW(Settings settings, FlatParameters params) {
    this(settings, params, OptimizerKernels.reachable(params.flat()));
  }

  /** {@code fused}: one pass in Java (CPU memory only) rather than native ops. */
  AdamW(Settings settings, FlatParameters params, boolean fused) {
    this.fused = fused;
    this.s = settings;
    this.params = params;
    this.m = params.zerosLike();
    this.v = params.zerosLike();
  }

  /**
   * Applies one update with learning rate {@code lr} from gradients laid out like the parameters.
   */
  public void update(FlatParameters grads, double lr) {
    update(grads, lr, 1.0);
  }

  /**
   * As {@link #update(FlatParameters, double)} after scaling the gradients by {@code gradScale}
   * (clipping), which is written back into {@code grads}: on CPU within the same pass, saving one
   * pass over the model.
   */
  public void update(FlatParameters grads, double lr, double gradScale) {
    update(grads, lr, gradScale, false);
  }

  /**
   * As {@link #update(FlatParameters, double, double)}; with {@code zeroGradients} the gradients
   * are left zeroed instead of scaled, for a caller that no longer needs them: on CPU the pass that
   * reads them writes the zeros, saving the next step's separate zeroing pass over the model.
   */
  public void update(FlatParameters grads, double lr, double gradScale, boolean zeroGradients) {
    step++;
    double bc1 = 1 - Math.pow(s.beta1(), step);
    double sqrtBc2 = Math.sqrt(1 - Math.pow(s.beta2(), step));
    if (fused) {
      updateFused(grads, lr, bc1, sqrtBc2, (float) gradScale, zeroGradients);
    } else {
      if (gradScale != 1.0) grads.flat().muli(gradScale);
      updateWithOps(grads, lr, bc1, sqrtBc2);
      if (zeroGradients) grads.flat().assign(0);
    }
  }

  /**
   * The update as one pass over parameters, gradients and moments (CPU): the step is memory-bound,
   * and the native-op path makes 10 passes and needs a scratch buffer the size of the model.
   * Arithmetic in fp32 in PyTorch's order ({@link OptimizerKernels#adamW}).
   */
  private void updateFused(
      FlatParameters grads,
      double lr,
      double bc1,
      double sqrtBc2,
      float gradScale,
      boolean zeroGradients) {
    ByteBuffer p = OptimizerKernels.bytes(params.flat()), g = OptimizerKernels.bytes(grads.flat());
    ByteBuffer mt = OptimizerKernels.bytes(m.flat()), vt = OptimizerKernels.bytes(v.flat());
    int pOff = (int) params.flat().offset(), gOff = (int) grads.flat().offset();
    int mOff = (int) m.flat().offset(), vOff = (int) v.flat().offset();
    int n = (int) params.flat().length(), decayed = (int) params.decayedLength();
    OptimizerKernels.AdamWStep k =
        new OptimizerKernels.AdamWStep(
            (float) s.beta1(),
            (float) (1 - s.beta1()),
            (float) s.beta2(),
            (float) (1 - s.beta2()),
            (float) sqrtBc2,
            (float) s.eps(),
            (float) (lr / bc1),
            gradScale,
            zeroGradients);
    float decay = (float) (1 - lr * s.weightDecay());
    Parallel.range(
        n,
        8,
        (from, to) -> {
          int split = Math.max(from, Math.min(to, decayed)); // the decayed prefix ends here
          OptimizerKernels.adamW(p, pOff, g, gOff, mt, mOff, vt, vOff, from, split, decay, k);
          OptimizerKernels.adamW(p, pOff, g, gOff, mt, mOff, vt, vOff, split, to, 1f, k);
        });
  }

  /** The update as native ops over the flat buffers (backends whose memory Java cannot reach). */
  private void updateWithOps(FlatParameters grads, double lr, double bc1, double sqrtBc2) {
    if (scratch == null) scratch = Nd4j.zeros(DataType.FLOAT, params.flat().length());
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

  /** The first and second moments as flat buffers laid out like the parameters (local SGD). */
  public FlatParameters firstMomentBuffer() {
    return m;
  }

  public FlatParameters secondMomentBuffer() {
    return v;
  }

  /** Sets the update count after the moments were restored into {@link #firstMoments()} etc. */
  public void restoreStep(long step) {
    this.step = step;
  }
}
