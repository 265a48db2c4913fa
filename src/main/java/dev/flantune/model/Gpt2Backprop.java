package dev.flantune.model;

import dev.flantune.checkpoint.Gpt2Weights;
import dev.flantune.data.Batch;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/**
 * GPT-2's forward and backward written out by hand, on activation buffers allocated once: the
 * engine for training, scoring ({@link #score}) and generation ({@link #decoder}) on CPU.
 *
 * <p>Every matrix product goes to ND4J's GEMM (oneDNN) with a preallocated output; weight gradients
 * are accumulated in place (β = 1) and residual additions ride on the GEMM that produces them. The
 * rest (embeddings, LayerNorm, GELU, the causal softmax, cross-entropy) are fused loops over the
 * same memory, split across cores. No native memory is allocated per step once the buffers exist,
 * so memory is parameters + gradients + activations, freed by nobody because it is reused.
 *
 * <p>Why not automatic differentiation of {@link Gpt2Graph}: measured on V8000 d512 L6 T256 B4, the
 * graph spent half its step outside GEMMs (broadcast backward ops, per-op session bookkeeping,
 * allocation) and its peak memory followed the garbage collector. {@link GraphGradientEngine} stays
 * as the second, independent implementation: both match the PyTorch reference.
 *
 * <p>Conventions: N = B·T tokens (row-major, index b·T + t), C = n_embd, H heads of D = C/H, F =
 * inner MLP size, V vocabulary, M scored rows. Attention heads are laid out [B, H, T, D] so each
 * head is one contiguous matrix. Query q of a row attends to keys [lo(q), q], lo(q) being the start
 * of q's segment (packing), plus a shared prefix of the row when scoring options that share a
 * context ({@link KeyRanges}); padding queries attend to nothing (their rows are never scored).
 */
public final class Gpt2Backprop implements GradientEngine {
  private final CausalLm model;
  private final int nC, nH, nD, nF, nV, nL;
  private final float eps;
  private final FlatParameters params;
  private final FloatBuffer pw; // the whole flat parameter buffer
  private FlatParameters grads; // allocated by the first training call
  private FloatBuffer gw;
  private final List<Param> all = new ArrayList<>();
  private final Param wte, wpe, lnfW, lnfB, head;
  private final Layer[] layers;
  private Acts trainActs, inferActs;
  private Storage headIn, logits, dHeadIn; // [M, C], [M, V], [M, C]: M = scored rows
  private int scoredCapacity;
  private KvDecoder capturing; // set while a decoder's prompt goes through forward()
  private long scoredBatches;

  /**
   * A parameter: its value (and, once training, its gradient) as INDArrays for GEMMs, and its
   * offset in the flat buffers for loops.
   */
  private static final class Param {
    final INDArray w;
    final int off;
    INDArray g;

    Param(INDArray w, int off) {
      this.w = w;
      this.off = off;
    }
  }

  private record Layer(
      Param ln1W,
      Param ln1B,
      Param attnW,
      Param attnB,
      Param projW,
      Param projB,
      Param ln2W,
      Param ln2B,
      Param fcW,
      Param fcB,
      Param mlpW,
      Param mlpB) {}

  /** Whether this engine can run the model (its loops index with ints). */
  static boolean supports(CausalLm model) {
    return model.parameters().flat().length() < Integer.MAX_VALUE;
  }

  public Gpt2Backprop(CausalLm model) {
    if (!supports(model))
      throw tooLarge("a model of " + model.parameters().flat().length() + " parameters");
    this.model = model;
    Gpt2Config c = model.config();
    nC = c.nEmbd();
    nH = c.nHead();
    nD = c.headSize();
    nF = c.innerSize();
    nV = c.vocabSize();
    nL = c.nLayer();
    eps = (float) c.layerNormEpsilon();
    params = model.parameters();
    pw = params.flat().data().asNioFloat();
    wte = param(params, Gpt2Weights.WTE);
    wpe = param(params, Gpt2Weights.WPE);
    lnfW = param(params, Gpt2Weights.LN_F_W);
    lnfB = param(params, Gpt2Weights.LN_F_B);
    head = c.tied() ? wte : param(params, Gpt2Weights.LM_HEAD);
    layers = new Layer[nL];
    for (int i = 0; i < nL; i++) {
      layers[i] =
          new Layer(
              param(params, Gpt2Weights.layer(i, "ln_1.weight")),
              param(params, Gpt2Weights.layer(i, "ln_1.bias")),
              param(params, Gpt2Weights.layer(i, "attn.c_attn.weight")),
              param(params, Gpt2Weights.layer(i, "attn.c_attn.bias")),
              param(params, Gpt2Weights.layer(i, "attn.c_proj.weight")),
              param(params, Gpt2Weights.layer(i, "attn.c_proj.bias")),
              param(params, Gpt2Weights.layer(i, "ln_2.weight")),
              param(params, Gpt2Weights.layer(i, "ln_2.bias")),
              param(params, Gpt2Weights.layer(i, "mlp.c_fc.weight")),
              param(params, Gpt2Weights.layer(i, "mlp.c_fc.bias")),
              param(params, Gpt2Weights.layer(i, "mlp.c_proj.weight")),
              param(params, Gpt2Weights.layer(i, "mlp.c_proj.bias")));
    }
  }

  private Param param(FlatParameters params, String name) {
    INDArray w = params.views().get(name);
    // Built over the flat buffer directly so it is a view, never a copy; vectors as [1, K] so
    // they can be GEMM operands (bias gradients are 1ᵀ·dY).
    long[] shape = w.rank() == 1 ? new long[] {1, w.length()} : w.shape();
    Param p = new Param(view(params.flat(), w.offset(), shape), Math.toIntExact(w.offset()));
    all.add(p);
    return p;
  }

  /** Allocates the gradient buffers (same layout as the parameters) on first use. */
  private void ensureGradients() {
    if (grads != null) return;
    grads = params.zerosLike();
    if (grads.flat().offset() != params.flat().offset()) throw new IllegalStateException("layout");
    gw = grads.flat().data().asNioFloat();
    for (Param p : all) p.g = view(grads.flat(), p.off, p.w.shape());
  }

  /**
   * A c-order view of {@code shape} starting at element {@code offset} of {@code base}'s buffer.
   */
  private static INDArray view(INDArray base, long offset, long... shape) {
    long[] stride = new long[shape.length];
    long s = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      stride[i] = s;
      s *= shape[i];
    }
    if (offset + s > base.data().length()) throw new IllegalStateException("view out of bounds");
    return Nd4j.create(base.data(), shape, stride, offset, 'c', DataType.FLOAT);
  }

  @Override
  public CausalLm model() {
    return model;
  }

  @Override
  public Map<String, INDArray> gradients() {
    ensureGradients();
    return grads.views();
  }

  @Override
  public FlatParameters gradientBuffer() {
    ensureGradients();
    return grads;
  }

  @Override
  public void zeroGradients() {
    ensureGradients();
    grads.flat().assign(0);
  }

  // ---------------------------------------------------------------------------------------------
  // The step

  @Override
  public double accumulate(Batch b, float[] lossWeights) {
    int[] rows = CausalLm.lossRows(b);
    if (rows.length == 0) return 0;
    ensureGradients();
    model.checkIds(b);
    KeyRanges keys = KeyRanges.of(b);
    Clock clock = new Clock();
    trainActs = acts(trainActs, b.rows(), b.length(), false);
    Acts a = trainActs;
    int n = a.n;
    forward(b, keys, a, clock);

    // LM head on the scored rows, cross-entropy, and its gradient in place of the logits.
    int m = rows.length;
    Buf lg = headLogits(a, rows, clock), in = headIn.rows(m, nC);
    double loss = crossEntropy(lg.fb, m, b.labels(), rows, lossWeights);
    clock.lap("cross-entropy");

    // Backward.
    Buf dIn = dHeadIn.rows(m, nC);
    gemm(lg.arr, false, head.w, false, dIn.arr, 1, 0);
    gemm(lg.arr, true, in.arr, false, head.g, 1, 1);
    clock.lap("gemm: LM head");
    zero(a.dln.fb, n * nC);
    scatterRows(dIn.fb, rows, a.dln.fb);
    layerNormBackward(a.dln.fb, a.resid[nL].fb, a.statsF, lnfW, lnfB, a.dres.fb, false, n);
    clock.lap("layernorm");
    for (int l = nL - 1; l >= 0; l--) {
      Layer p = layers[l];
      LayerActs la = a.layer[l];
      // MLP: resid[l+1] = mid + gelu(ln2·Wfc + bfc)·Wmlp + bmlp.
      gemm(a.ones.arr, false, a.dres.arr, false, p.mlpB.g, 1, 1);
      clock.lap("gemm: bias gradients");
      gemm(la.g.arr, true, a.dres.arr, false, p.mlpW.g, 1, 1);
      gemm(a.dres.arr, false, p.mlpW.w, true, a.dF.arr, 1, 0);
      clock.lap("gemm");
      geluBackward(la.u.fb, la.t.fb, a.dF.fb, n * nF);
      clock.lap("gelu");
      gemm(a.ones.arr, false, a.dF.arr, false, p.fcB.g, 1, 1);
      clock.lap("gemm: bias gradients");
      gemm(la.ln2.arr, true, a.dF.arr, false, p.fcW.g, 1, 1);
      gemm(a.dF.arr, false, p.fcW.w, true, a.dln.arr, 1, 0);
      clock.lap("gemm");
      layerNormBackward(a.dln.fb, la.mid.fb, la.stats2, p.ln2W, p.ln2B, a.dres.fb, true, n);
      clock.lap("layernorm");
      // Attention: mid = resid[l] + attend(ln1·Wattn + battn)·Wproj + bproj.
      gemm(a.ones.arr, false, a.dres.arr, false, p.projB.g, 1, 1);
      clock.lap("gemm: bias gradients");
      gemm(la.y.arr, true, a.dres.arr, false, p.projW.g, 1, 1);
      gemm(a.dres.arr, false, p.projW.w, true, a.dln.arr, 1, 0);
      clock.lap("gemm");
      splitHeads(a.dln.fb, nC, a.yh.fb, 1, a); // dY as heads
      clock.lap("attention: split/merge heads");
      bmm(a.yh.arr, false, la.v, true, a.datt.arr, 1, 0); // dP = dY·Vᵀ
      bmm(la.att.arr, true, a.yh.arr, false, a.dv, 1, 0); // dV = Pᵀ·dY
      clock.lap("attention: batched matmul");
      causalSoftmaxBackward(la.att.fb, a.datt.fb, keys, a);
      clock.lap("attention: softmax");
      double scale = 1 / Math.sqrt(nD);
      bmm(a.datt.arr, false, la.k, false, a.dq, scale, 0); // dQ = dS·K·scale
      bmm(a.datt.arr, true, la.q, false, a.dk, scale, 0); // dK = dSᵀ·Q·scale
      clock.lap("attention: batched matmul");
      for (int s = 0; s < 3; s++) mergeHeads(a.dheads.fb, s * n * nC, a.qkv.fb, 3 * nC, s * nC, a);
      clock.lap("attention: split/merge heads");
      gemm(a.ones.arr, false, a.qkv.arr, false, p.attnB.g, 1, 1);
      clock.lap("gemm: bias gradients");
      gemm(la.ln1.arr, true, a.qkv.arr, false, p.attnW.g, 1, 1);
      gemm(a.qkv.arr, false, p.attnW.w, true, a.dln.arr, 1, 0);
      clock.lap("gemm");
      layerNormBackward(a.dln.fb, a.resid[l].fb, la.stats1, p.ln1W, p.ln1B, a.dres.fb, true, n);
      clock.lap("layernorm");
    }
    embedBackward(b, a.dres.fb);
    clock.lap("embedding");
    return loss;
  }

  /**
   * −ln P(label) and the model's most likely token at the positions whose loss mask is non-zero (0
   * and −1 elsewhere), by a forward pass alone, query i attending to the keys {@code keys} gives
   * it.
   */
  CausalLm.TokenScores score(Batch b, KeyRanges keys) {
    scoredBatches++;
    int n = b.rows() * b.length();
    double[] nll = new double[n];
    int[] argmax = new int[n];
    java.util.Arrays.fill(argmax, -1);
    int[] rows = CausalLm.lossRows(b);
    if (rows.length == 0) return new CausalLm.TokenScores(nll, argmax);
    model.checkIds(b);
    Clock clock = new Clock();
    inferActs = acts(inferActs, b.rows(), b.length(), true);
    forward(b, keys, inferActs, clock);
    int m = rows.length;
    FloatBuffer lg = headLogits(inferActs, rows, clock).fb;
    int[] labels = b.labels();
    Parallel.range(
        m,
        nV,
        (from, to) -> {
          float[] row = new float[nV];
          for (int j = from; j < to; j++) {
            lg.get(j * nV, row, 0, nV);
            int best = 0;
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < nV; v++) {
              if (row[v] > max) {
                max = row[v];
                best = v;
              }
            }
            double sum = 0;
            for (int v = 0; v < nV; v++) sum += FastMath.exp(row[v] - max);
            nll[rows[j]] = Math.log(sum) + max - row[labels[rows[j]]];
            argmax[rows[j]] = best;
          }
        });
    clock.lap("cross-entropy");
    return new CausalLm.TokenScores(nll, argmax);
  }

  /** Batches scored so far (tests check which engine scoring took). */
  long scoredBatches() {
    return scoredBatches;
  }

  /**
   * The LM head on the scored rows of the final hidden states: their rows gathered into {@link
   * #headIn}, logits [M, V] into {@link #logits} (returned).
   */
  private Buf headLogits(Acts a, int[] rows, Clock clock) {
    int m = rows.length;
    ensureScoredCapacity(m, a.n);
    Buf in = headIn.rows(m, nC), out = logits.rows(m, nV);
    gatherRows(a.lnf.fb, rows, in.fb);
    gemm(in.arr, false, head.w, true, out.arr, 1, 0);
    clock.lap("gemm: LM head");
    return out;
  }

  /** The forward pass up to the final LayerNorm, into {@code a}. */
  private void forward(Batch b, KeyRanges keys, Acts a, Clock clock) {
    int n = a.n;
    // Forward.
    embed(b, a.resid[0].fb);
    clock.lap("embedding");
    for (int l = 0; l < nL; l++) {
      Layer p = layers[l];
      LayerActs la = a.layer[l];
      layerNorm(a.resid[l].fb, la.ln1.fb, la.stats1, p.ln1W, p.ln1B, n);
      clock.lap("layernorm");
      fillRows(a.qkv.fb, p.attnB, n, 3 * nC);
      clock.lap("bias rows (before the GEMM)");
      gemm(la.ln1.arr, false, p.attnW.w, false, a.qkv.arr, 1, 1);
      clock.lap("gemm");
      splitHeads(a.qkv.fb, 3 * nC, la.heads.fb, 3, a);
      if (capturing != null) capturing.store(l, la.heads.fb, a);
      clock.lap("attention: split/merge heads");
      bmm(la.q, false, la.k, true, la.att.arr, 1 / Math.sqrt(nD), 0);
      clock.lap("attention: batched matmul");
      causalSoftmax(la.att.fb, keys, a);
      clock.lap("attention: softmax");
      bmm(la.att.arr, false, la.v, false, a.yh.arr, 1, 0);
      clock.lap("attention: batched matmul");
      mergeHeads(a.yh.fb, 0, la.y.fb, nC, 0, a);
      clock.lap("attention: split/merge heads");
      copyAddRows(a.resid[l].fb, p.projB, la.mid.fb, n, nC);
      clock.lap("bias rows (before the GEMM)");
      gemm(la.y.arr, false, p.projW.w, false, la.mid.arr, 1, 1);
      clock.lap("gemm");
      layerNorm(la.mid.fb, la.ln2.fb, la.stats2, p.ln2W, p.ln2B, n);
      clock.lap("layernorm");
      fillRows(la.u.fb, p.fcB, n, nF);
      clock.lap("bias rows (before the GEMM)");
      gemm(la.ln2.arr, false, p.fcW.w, false, la.u.arr, 1, 1);
      clock.lap("gemm");
      gelu(la.u, la.t, la.g.fb, n * nF);
      clock.lap("gelu");
      copyAddRows(la.mid.fb, p.mlpB, a.resid[l + 1].fb, n, nC);
      clock.lap("bias rows (before the GEMM)");
      gemm(la.g.arr, false, p.mlpW.w, false, a.resid[l + 1].arr, 1, 1);
      clock.lap("gemm");
    }
    layerNorm(a.resid[nL].fb, a.lnf.fb, a.statsF, lnfW, lnfB, n);
    clock.lap("layernorm");
  }

  // ---------------------------------------------------------------------------------------------
  // Generation

  /** A key/value-cache decoder on this model's live weights. */
  Decoder decoder() {
    return new KvDecoder();
  }

  /**
   * One sequence with a key/value cache: the prompt goes through {@link #forward} in one pass (its
   * keys and values captured per layer), then each new token is one position: four GEMV-sized GEMMs
   * per layer and attention over the cache in Java.
   */
  private final class KvDecoder implements Decoder {
    private final int maxLen = model.config().nPositions();
    private final float[][] keys = new float[nL][], values = new float[nL][]; // [H, P, D]
    private final Storage lnf = new Storage(nC); // the last position's final hidden state
    private final Storage out = new Storage(nV); // its logits
    private int length;

    @Override
    public Gpt2Config config() {
      return model.config();
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public int remaining() {
      return maxLen - length;
    }

    @Override
    public void reset() {
      length = 0;
    }

    @Override
    public float[] append(int... tokens) {
      Decoder.checkAppend(tokens, length, model.config());
      if (keys[0] == null) {
        for (int l = 0; l < nL; l++) {
          keys[l] = new float[maxLen * nC];
          values[l] = new float[maxLen * nC];
        }
      }
      if (length == 0 && tokens.length > 1) return prefill(tokens);
      float[] logits = null;
      for (int id : tokens) logits = step(id);
      return logits;
    }

    /** The whole prompt in one forward pass; its keys and values land in the cache. */
    private float[] prefill(int[] tokens) {
      int n = tokens.length;
      int[] pos = new int[n], seg = new int[n];
      for (int i = 0; i < n; i++) {
        pos[i] = i;
        seg[i] = 1;
      }
      Batch b = new Batch(1, n, tokens, pos, seg, new int[n], new float[n]);
      inferActs = acts(inferActs, 1, n, true);
      capturing = this;
      try {
        forward(b, KeyRanges.of(b), inferActs, new Clock());
      } finally {
        capturing = null;
      }
      length = n;
      lnf.fb.put(0, inferActs.lnf.fb, (n - 1) * nC, nC);
      return logits();
    }

    /** Copies layer {@code l}'s keys and values [H, T, D] from the forward pass into the cache. */
    void store(int l, FloatBuffer heads, Acts a) {
      int n = a.n, span = a.len * nD;
      for (int head = 0; head < nH; head++) {
        heads.get(n * nC + head * span, keys[l], head * maxLen * nD, span);
        heads.get(2 * n * nC + head * span, values[l], head * maxLen * nD, span);
      }
    }

    /**
     * One token at position {@code length}, entirely in Java: at one row every product is a
     * matrix-vector product, where an ND4J call costs ~0.1 ms of dispatch and the arithmetic a few
     * µs (tiny model: 5 ms per token through ND4J).
     */
    private float[] step(int id) {
      int p = length;
      float[] x = new float[nC], hRow = new float[nC], qkvRow = new float[3 * nC];
      float[] yRow = new float[nC], uRow = new float[nF], scores = new float[p + 1];
      pw.get(wte.off + id * nC, x, 0, nC);
      float[] posRow = new float[nC];
      pw.get(wpe.off + p * nC, posRow, 0, nC);
      for (int c = 0; c < nC; c++) x[c] += posRow[c];
      float scale = (float) (1 / Math.sqrt(nD));
      for (int l = 0; l < nL; l++) {
        Layer w = layers[l];
        layerNormRow(x, hRow, read(w.ln1W), read(w.ln1B), null, 0);
        linearRow(hRow, w.attnW, w.attnB, qkvRow, false);
        float[] k = keys[l], v = values[l];
        for (int head = 0; head < nH; head++) {
          int base = head * maxLen * nD, q = head * nD;
          System.arraycopy(qkvRow, nC + q, k, base + p * nD, nD);
          System.arraycopy(qkvRow, 2 * nC + q, v, base + p * nD, nD);
          float max = Float.NEGATIVE_INFINITY;
          float[] qHead = java.util.Arrays.copyOfRange(qkvRow, q, q + nD);
          for (int s = 0; s <= p; s++) {
            scores[s] = dot(qHead, k, base + s * nD, nD) * scale;
            max = Math.max(max, scores[s]);
          }
          float sum = 0;
          for (int s = 0; s <= p; s++) sum += scores[s] = FastMath.exp(scores[s] - max);
          java.util.Arrays.fill(yRow, q, q + nD, 0f);
          for (int s = 0; s <= p; s++) {
            float wgt = scores[s] / sum;
            for (int d = 0; d < nD; d++) yRow[q + d] += wgt * v[base + s * nD + d];
          }
        }
        linearRow(yRow, w.projW, w.projB, x, true); // x = x + y·Wproj + b: the residual
        layerNormRow(x, hRow, read(w.ln2W), read(w.ln2B), null, 0);
        linearRow(hRow, w.fcW, w.fcB, uRow, false);
        for (int f = 0; f < nF; f++) uRow[f] = 0.5f * uRow[f] * (1 + geluTanh(uRow[f]));
        linearRow(uRow, w.mlpW, w.mlpB, x, true);
      }
      layerNormRow(x, hRow, read(lnfW), read(lnfB), null, 0);
      length++;
      return headRow(hRow, lnf, out);
    }

    /** The head on the last position's final hidden state after LayerNorm, {@code lnf}. */
    private float[] logits() {
      float[] hRow = new float[nC];
      lnf.fb.get(0, hRow, 0, nC);
      return headRow(hRow, lnf, out);
    }
  }

  /**
   * a[0, n) · b[off, off + n) with eight independent partial sums: the JIT does not vectorize a
   * float reduction (it would reorder it), but it overlaps independent chains (4× here).
   */
  private static float dot(float[] a, float[] b, int off, int n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      s0 += a[i] * b[off + i];
      s1 += a[i + 1] * b[off + i + 1];
      s2 += a[i + 2] * b[off + i + 2];
      s3 += a[i + 3] * b[off + i + 3];
      s4 += a[i + 4] * b[off + i + 4];
      s5 += a[i + 5] * b[off + i + 5];
      s6 += a[i + 6] * b[off + i + 6];
      s7 += a[i + 7] * b[off + i + 7];
    }
    for (; i < n; i++) s0 += a[i] * b[off + i];
    return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
  }

  /**
   * GPT-2's LayerNorm of one row: out = (x − μ)·rstd·g + b with rstd = 1/√(var + eps), biased
   * variance ({@code out} may be {@code x}); μ and rstd go to stats[2i], stats[2i + 1] unless stats
   * is null.
   */
  private void layerNormRow(float[] x, float[] out, float[] gv, float[] bv, float[] stats, int i) {
    double sum = 0;
    for (int c = 0; c < nC; c++) sum += x[c];
    float mean = (float) (sum / nC);
    double sq = 0;
    for (int c = 0; c < nC; c++) {
      float d = x[c] - mean;
      sq += d * d;
    }
    float rstd = (float) (1 / Math.sqrt(sq / nC + eps));
    for (int c = 0; c < nC; c++) out[c] = (x[c] - mean) * rstd * gv[c] + bv[c];
    if (stats != null) {
      stats[2 * i] = mean;
      stats[2 * i + 1] = rstd;
    }
  }

  /**
   * out (+)= x·W + b for one row, W [in, out] in the flat parameter buffer: each thread takes a
   * range of output columns and streams W's rows through a Java array (memory-bound, one pass over
   * W).
   */
  private void linearRow(float[] x, Param w, Param b, float[] out, boolean accumulate) {
    int in = (int) w.w.size(0), width = (int) w.w.size(1);
    float[] bv = read(b);
    Parallel.range(
        width,
        in,
        (from, to) -> {
          int len = to - from;
          float[] acc = new float[len], row = new float[len];
          for (int i = 0; i < in; i++) {
            pw.get(w.off + i * width + from, row, 0, len);
            float xi = x[i];
            for (int o = 0; o < len; o++) acc[o] += xi * row[o];
          }
          for (int o = 0; o < len; o++)
            out[from + o] = (accumulate ? out[from + o] : 0f) + acc[o] + bv[from + o];
        });
  }

  /**
   * logits = head · h for one row, by ND4J's GEMM: the head is the largest matrix (V × C) and this
   * call streams it faster than Java does (0.8 vs 2.2 ms for V50257 C128).
   */
  private float[] headRow(float[] hRow, Storage in, Storage out) {
    in.fb.put(0, hRow, 0, nC);
    gemm(in.rows(1, nC).arr, false, head.w, true, out.rows(1, nV).arr, 1, 0);
    float[] logits = new float[nV];
    out.fb.get(0, logits, 0, nV);
    return logits;
  }

  // ---------------------------------------------------------------------------------------------
  // Buffers

  /**
   * A contiguous fp32 array: as INDArray for native ops, as FloatBuffer (from index 0) for loops.
   */
  private record Buf(INDArray arr, FloatBuffer fb) {}

  /** Storage of a given capacity from which prefix views of any shape are cut. */
  private static final class Storage {
    final INDArray flat;
    final FloatBuffer fb;

    Storage(long capacity) {
      flat = Nd4j.create(DataType.FLOAT, capacity);
      fb = flat.data().asNioFloat();
    }

    Buf view(long offset, long... shape) {
      return new Buf(Gpt2Backprop.view(flat, offset, shape), fb);
    }

    /** The first {@code m} rows of width {@code k}. */
    Buf rows(int m, int k) {
      return view(0, m, k);
    }
  }

  /** Per-layer activations kept for the backward pass. */
  private static final class LayerActs {
    Buf ln1, heads, att, y, mid, ln2, u, t, g;
    INDArray q, k, v;
    float[] stats1, stats2; // per row: mean, rstd
  }

  /** Every buffer of the step for one batch shape, cut from storages sized to a capacity. */
  private final class Acts {
    final int rows, len, n;
    final boolean inference;
    final int capTokens;
    final long capAttention;
    final List<Storage> storages = new ArrayList<>();
    Buf[] resid;
    LayerActs[] layer;
    Buf lnf, qkv, yh, dres, dln, dF, datt, dheads, ones;
    INDArray dq, dk, dv;
    float[] statsF;

    /**
     * {@code inference}: forward only, so every layer reuses one set of buffers and the residual
     * stream is updated in place.
     */
    Acts(int rows, int len, int capTokens, long capAttention, boolean inference, Acts reuse) {
      this.rows = rows;
      this.len = len;
      this.n = rows * len;
      this.capTokens = capTokens;
      this.capAttention = capAttention;
      this.inference = inference;
      Storage[] old = reuse == null ? null : reuse.storages.toArray(new Storage[0]);
      int[] next = {0};
      java.util.function.LongFunction<Storage> take =
          cap -> {
            Storage s = old != null ? old[next[0]++] : new Storage(cap);
            storages.add(s);
            return s;
          };
      long tokC = (long) capTokens * nC, tokF = (long) capTokens * nF;
      int t = len;
      resid = new Buf[nL + 1];
      for (int l = 0; l <= nL; l++)
        resid[l] = inference && l > 0 ? resid[0] : take.apply(tokC).view(0, n, nC);
      layer = new LayerActs[nL];
      for (int l = 0; l < nL; l++) {
        if (inference && l > 0) {
          layer[l] = layer[0];
          continue;
        }
        LayerActs la = new LayerActs();
        la.ln1 = take.apply(tokC).view(0, n, nC);
        Storage h = take.apply(3 * tokC);
        la.heads = h.view(0, 3L * n * nC);
        la.q = h.view(0, (long) rows * nH, t, nD).arr();
        la.k = h.view((long) n * nC, (long) rows * nH, t, nD).arr();
        la.v = h.view(2L * n * nC, (long) rows * nH, t, nD).arr();
        la.att = take.apply(capAttention).view(0, (long) rows * nH, t, t);
        la.y = take.apply(tokC).view(0, n, nC);
        la.mid = take.apply(tokC).view(0, n, nC);
        la.ln2 = take.apply(tokC).view(0, n, nC);
        la.u = take.apply(tokF).view(0, n, nF);
        la.t = take.apply(tokF).view(0, n, nF);
        la.g = take.apply(tokF).view(0, n, nF);
        la.stats1 = new float[2 * n];
        la.stats2 = new float[2 * n];
        layer[l] = la;
      }
      lnf = take.apply(tokC).view(0, n, nC);
      qkv = take.apply(3 * tokC).view(0, n, 3 * nC);
      yh = take.apply(tokC).view(0, (long) rows * nH, t, nD);
      statsF = new float[2 * n];
      if (inference) return;
      dres = take.apply(tokC).view(0, n, nC);
      dln = take.apply(tokC).view(0, n, nC);
      dF = take.apply(tokF).view(0, n, nF);
      datt = take.apply(capAttention).view(0, (long) rows * nH, t, t);
      Storage dh = take.apply(3 * tokC);
      dheads = dh.view(0, 3L * n * nC);
      dq = dh.view(0, (long) rows * nH, t, nD).arr();
      dk = dh.view((long) n * nC, (long) rows * nH, t, nD).arr();
      dv = dh.view(2L * n * nC, (long) rows * nH, t, nD).arr();
      Storage one = take.apply(capTokens);
      ones = one.view(0, 1, n);
      ones.arr().assign(1);
    }

    void close() {
      for (Storage s : storages) s.flat.close();
    }
  }

  /** Buffers for a batch of {@code rows} × {@code len}, reusing {@code current}'s when they fit. */
  private Acts acts(Acts current, int rows, int len, boolean inference) {
    if (current != null && current.rows == rows && current.len == len) return current;
    int n = rows * len;
    long att = (long) rows * nH * len * len;
    if ((long) n * nF >= Integer.MAX_VALUE || att >= Integer.MAX_VALUE)
      throw tooLarge("a batch of " + rows + " × " + len + " tokens");
    if (current != null && n <= current.capTokens && att <= current.capAttention) {
      return new Acts(rows, len, current.capTokens, current.capAttention, inference, current);
    }
    int capTokens = Math.max(n, current == null ? 0 : current.capTokens);
    long capAtt = Math.max(att, current == null ? 0 : current.capAttention);
    if (current != null) current.close();
    return new Acts(rows, len, capTokens, capAtt, inference, null);
  }

  private static RuntimeException tooLarge(String what) {
    return dev.flantune.util.FlanTuneException.badUsage(
        what
            + " needs arrays past 2^31 values; lower train.batch_size (train.grad_accum keeps the"
            + " effective batch) or set FLAN_TUNE_ENGINE=graph");
  }

  /**
   * Head buffers for {@code m} scored rows (of a batch of {@code n} tokens); grown, never shrunk.
   */
  private void ensureScoredCapacity(int m, int n) {
    if (m <= scoredCapacity) return;
    int cap = Math.max(m, Math.min(n, scoredCapacity + scoredCapacity / 4));
    if ((long) cap * nV >= Integer.MAX_VALUE)
      throw tooLarge(m + " scored positions × a vocabulary of " + nV);
    if (headIn != null) {
      headIn.flat.close();
      logits.flat.close();
      dHeadIn.flat.close();
    }
    headIn = new Storage((long) cap * nC);
    logits = new Storage((long) cap * nV);
    dHeadIn = new Storage((long) cap * nC);
    scoredCapacity = cap;
  }

  // ---------------------------------------------------------------------------------------------
  // Native products

  private static void gemm(
      INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
    Nd4j.gemm(a, b, c, ta, tb, alpha, beta);
  }

  /** Batched [X, R, K]·[X, K, S] → [X, R, S] with optional transposes of the last two axes. */
  private static void bmm(
      INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
    Nd4j.exec(
        new Mmul(
            a, b, c, alpha, beta, MMulTranspose.builder().transposeA(ta).transposeB(tb).build()));
  }

  // ---------------------------------------------------------------------------------------------
  // Loops

  /** x[i] = wte[id_i] + wpe[pos_i]. */
  private void embed(Batch b, FloatBuffer x) {
    int[] ids = b.inputIds(), pos = b.positionIds();
    Parallel.range(
        ids.length,
        nC,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int t = wte.off + ids[i] * nC, p = wpe.off + pos[i] * nC, o = i * nC;
            for (int c = 0; c < nC; c++) x.put(o + c, pw.get(t + c) + pw.get(p + c));
          }
        });
  }

  /** dwte[id_i] += dx[i], dwpe[pos_i] += dx[i]; split by columns so the sums keep their order. */
  private void embedBackward(Batch b, FloatBuffer dx) {
    int[] ids = b.inputIds(), pos = b.positionIds();
    int n = ids.length;
    Parallel.range(
        nC,
        2L * n,
        (from, to) -> {
          for (int i = 0; i < n; i++) {
            int t = wte.off + ids[i] * nC, p = wpe.off + pos[i] * nC, o = i * nC;
            for (int c = from; c < to; c++) {
              float d = dx.get(o + c);
              gw.put(t + c, gw.get(t + c) + d);
              gw.put(p + c, gw.get(p + c) + d);
            }
          }
        });
  }

  private float[] read(Param p) {
    float[] v = new float[(int) p.w.length()];
    for (int i = 0; i < v.length; i++) v[i] = pw.get(p.off + i);
    return v;
  }

  /** Every row of out [n, k] = bias. */
  private void fillRows(FloatBuffer out, Param bias, int n, int k) {
    float[] bv = read(bias);
    Parallel.range(
        n,
        k,
        (from, to) -> {
          for (int i = from; i < to; i++) out.put(i * k, bv);
        });
  }

  /** out = x + bias (per row), x and out [n, k]. */
  private void copyAddRows(FloatBuffer x, Param bias, FloatBuffer out, int n, int k) {
    float[] bv = read(bias);
    Parallel.range(
        n,
        k,
        (from, to) -> {
          float[] row = new float[k];
          for (int i = from; i < to; i++) {
            x.get(i * k, row, 0, k);
            for (int c = 0; c < k; c++) row[c] += bv[c];
            out.put(i * k, row, 0, k);
          }
        });
  }

  private static void zero(FloatBuffer x, int len) {
    float[] zeros = new float[Math.min(len, 1 << 16)];
    for (int i = 0; i < len; i += zeros.length) x.put(i, zeros, 0, Math.min(zeros.length, len - i));
  }

  private void gatherRows(FloatBuffer src, int[] rows, FloatBuffer dst) {
    for (int j = 0; j < rows.length; j++) dst.put(j * nC, src, rows[j] * nC, nC);
  }

  private void scatterRows(FloatBuffer src, int[] rows, FloatBuffer dst) {
    for (int j = 0; j < rows.length; j++) dst.put(rows[j] * nC, src, j * nC, nC);
  }

  /**
   * GPT-2's LayerNorm of every row ({@link #layerNormRow}), keeping μ and rstd per row for the
   * backward pass.
   *
   * <p>Every loop of this class copies its row or chunk into a Java array first: arithmetic on
   * arrays is vectorized by the JIT, on direct FloatBuffers it is not (GELU measured 1.4 vs 15 ms
   * over 2M elements).
   */
  private void layerNorm(FloatBuffer x, FloatBuffer out, float[] stats, Param g, Param b, int n) {
    float[] gv = read(g), bv = read(b);
    Parallel.range(
        n,
        3L * nC,
        (from, to) -> {
          float[] row = new float[nC];
          for (int i = from; i < to; i++) {
            x.get(i * nC, row, 0, nC);
            layerNormRow(row, row, gv, bv, stats, i);
            out.put(i * nC, row, 0, nC);
          }
        });
  }

  /** Rows per block of the gain/bias gradient sums: fixed, so the sums' order never varies. */
  private static final int REDUCE_BLOCK = 32;

  /**
   * LayerNorm backward: dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·g, written into
   * (or, if {@code accumulate}, added to) {@code dx}; dg += Σ dy·x̂, db += Σ dy.
   */
  private void layerNormBackward(
      FloatBuffer dy,
      FloatBuffer x,
      float[] stats,
      Param g,
      Param b,
      FloatBuffer dx,
      boolean accumulate,
      int n) {
    float[] gv = read(g);
    int blocks = (n + REDUCE_BLOCK - 1) / REDUCE_BLOCK;
    float[][] dgPart = new float[blocks][nC], dbPart = new float[blocks][nC];
    Parallel.range(
        blocks,
        REDUCE_BLOCK * 4L * nC,
        (fromBlock, toBlock) -> {
          float[] dyr = new float[nC], xr = new float[nC], dxr = new float[nC];
          for (int blk = fromBlock; blk < toBlock; blk++) {
            float[] dgB = dgPart[blk], dbB = dbPart[blk];
            int end = Math.min(n, (blk + 1) * REDUCE_BLOCK);
            for (int i = blk * REDUCE_BLOCK; i < end; i++) {
              int o = i * nC;
              dy.get(o, dyr, 0, nC);
              x.get(o, xr, 0, nC);
              float mean = stats[2 * i], rstd = stats[2 * i + 1];
              double s1 = 0, s2 = 0;
              for (int c = 0; c < nC; c++) {
                float d = dyr[c];
                float xh = (xr[c] - mean) * rstd;
                float dxh = d * gv[c];
                xr[c] = xh; // x̂ from here on
                dyr[c] = dxh; // dx̂ from here on
                dgB[c] += d * xh;
                dbB[c] += d;
                s1 += dxh;
                s2 += dxh * xh;
              }
              float m1 = (float) (s1 / nC), m2 = (float) (s2 / nC);
              if (accumulate) dx.get(o, dxr, 0, nC);
              else java.util.Arrays.fill(dxr, 0f);
              for (int c = 0; c < nC; c++) dxr[c] += rstd * (dyr[c] - m1 - xr[c] * m2);
              dx.put(o, dxr, 0, nC);
            }
          }
        });
    for (int blk = 0; blk < blocks; blk++) {
      for (int c = 0; c < nC; c++) {
        gw.put(g.off + c, gw.get(g.off + c) + dgPart[blk][c]);
        gw.put(b.off + c, gw.get(b.off + c) + dbPart[blk][c]);
      }
    }
  }

  private static final double GELU_K0 = Math.sqrt(2 / Math.PI), GELU_K1 = 0.044715;

  /**
   * gelu_new: out = 0.5·x·(1 + t), t = tanh(√(2/π)·(x + 0.044715·x³)), t kept for the backward
   * pass. One fused pass with {@link FastMath#tanh}: ND4J's tanh op alone cost 3 ns per element,
   * Java's Math.tanh 44.
   */
  private static void gelu(Buf x, Buf t, FloatBuffer out, int len) {
    FloatBuffer xb = x.fb(), tb = t.fb();
    Parallel.range(
        len,
        8,
        (from, to) -> {
          float[] xs = new float[CHUNK], ts = new float[CHUNK], os = new float[CHUNK];
          for (int at = from; at < to; at += CHUNK) {
            int m = Math.min(CHUNK, to - at);
            xb.get(at, xs, 0, m);
            for (int i = 0; i < m; i++) {
              float th = geluTanh(xs[i]);
              ts[i] = th;
              os[i] = 0.5f * xs[i] * (1 + th);
            }
            tb.put(at, ts, 0, m);
            out.put(at, os, 0, m);
          }
        });
  }

  /** t = tanh(√(2/π)·(x + 0.044715·x³)), the inner part of gelu_new. */
  private static float geluTanh(float x) {
    return FastMath.tanh((float) GELU_K0 * (x + (float) GELU_K1 * x * x * x));
  }

  /** Elements per chunk of the elementwise loops (three chunks fit in L1). */
  private static final int CHUNK = 2048;

  /** d ← d · gelu_new'(x), in place, from x and the forward pass's t. */
  private static void geluBackward(FloatBuffer x, FloatBuffer t, FloatBuffer d, int len) {
    float k0 = (float) GELU_K0, k1 = (float) GELU_K1;
    Parallel.range(
        len,
        3,
        (from, to) -> {
          float[] xs = new float[CHUNK], ts = new float[CHUNK], ds = new float[CHUNK];
          for (int at = from; at < to; at += CHUNK) {
            int m = Math.min(CHUNK, to - at);
            x.get(at, xs, 0, m);
            t.get(at, ts, 0, m);
            d.get(at, ds, 0, m);
            for (int i = 0; i < m; i++) {
              float v = xs[i], th = ts[i];
              ds[i] *= 0.5f * (1 + th) + 0.5f * v * (1 - th * th) * k0 * (1 + 3 * k1 * v * v);
            }
            d.put(at, ds, 0, m);
          }
        });
  }

  /**
   * Which keys each query attends to: query i (row r, position q) sees keys [0, shared[i]) ∪
   * [lo[i], q] of its row. Training batches: lo = the start of q's segment, shared = 0 (packed
   * examples never see each other). Scoring: continuations that share a context also see it.
   * Padding: lo = q + 1 and shared = 0, i.e. nothing.
   */
  record KeyRanges(int[] shared, int[] lo) {
    /** Causal within each segment of the batch (see {@link AttentionBias}). */
    static KeyRanges of(Batch b) {
      int t = b.length();
      int[] seg = b.segmentIds(), lo = new int[seg.length];
      for (int i = 0; i < seg.length; i++) {
        int q = i % t;
        if (seg[i] == 0) lo[i] = q + 1;
        else lo[i] = q > 0 && seg[i - 1] == seg[i] ? lo[i - 1] : q;
      }
      return new KeyRanges(new int[seg.length], lo);
    }

    /**
     * The ranges an additive bias [rows, T, T] (0 = attend, else masked) describes, or null when it
     * is not of that form.
     */
    static KeyRanges ofBias(float[] bias, int rows, int t) {
      int n = rows * t;
      int[] shared = new int[n], lo = new int[n];
      for (int i = 0; i < n; i++) {
        int q = i % t, o = i * t;
        for (int k = q + 1; k < t; k++) if (bias[o + k] == 0f) return null;
        if (bias[o + q] != 0f) { // sees nothing, or not of this form
          for (int k = 0; k < q; k++) if (bias[o + k] == 0f) return null;
          lo[i] = q + 1;
          continue;
        }
        int start = q;
        while (start > 0 && bias[o + start - 1] == 0f) start--;
        int sh = 0;
        if (start > 0) {
          while (sh < start && bias[o + sh] == 0f) sh++;
          for (int k = sh; k < start; k++) if (bias[o + k] == 0f) return null;
        }
        shared[i] = sh;
        lo[i] = start;
      }
      return new KeyRanges(shared, lo);
    }
  }

  /**
   * Softmax of each (row, head, query) over its keys (see {@link KeyRanges}), in place over the
   * scaled scores; exactly 0 on every other key.
   */
  private void causalSoftmax(FloatBuffer s, KeyRanges keys, Acts a) {
    int t = a.len;
    Parallel.range(
        a.rows * nH * t,
        t,
        (from, to) -> {
          float[] row = new float[t];
          for (int rq = from; rq < to; rq++) {
            int q = rq % t, i = (rq / t / nH) * t + q, o = rq * t;
            int lo = keys.lo[i], sh = Math.min(keys.shared[i], lo);
            s.get(o, row, 0, t);
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < sh; k++) max = Math.max(max, row[k]);
            for (int k = lo; k <= q; k++) max = Math.max(max, row[k]);
            float sum = 0;
            for (int k = 0; k < sh; k++) sum += row[k] = FastMath.exp(row[k] - max);
            for (int k = lo; k <= q; k++) sum += row[k] = FastMath.exp(row[k] - max);
            float inv =
                sh == 0 && lo > q ? 0f : 1 / sum; // NaN scores stay NaN: the guard sees them
            for (int k = 0; k < sh; k++) row[k] *= inv;
            for (int k = sh; k < lo; k++) row[k] = 0f;
            for (int k = lo; k <= q; k++) row[k] *= inv;
            for (int k = Math.max(q + 1, lo); k < t; k++) row[k] = 0f;
            s.put(o, row, 0, t);
          }
        });
  }

  /** dS = P ⊙ (dP − Σ_k dP·P), in place over dP, per (row, head, query); 0 off its keys. */
  private void causalSoftmaxBackward(FloatBuffer p, FloatBuffer dp, KeyRanges keys, Acts a) {
    int t = a.len;
    Parallel.range(
        a.rows * nH * t,
        t,
        (from, to) -> {
          float[] pr = new float[t], dr = new float[t];
          for (int rq = from; rq < to; rq++) {
            int q = rq % t, i = (rq / t / nH) * t + q, o = rq * t;
            int lo = keys.lo[i], sh = Math.min(keys.shared[i], lo);
            p.get(o, pr, 0, t);
            dp.get(o, dr, 0, t);
            float dot = 0;
            for (int k = 0; k < sh; k++) dot += dr[k] * pr[k];
            for (int k = lo; k <= q; k++) dot += dr[k] * pr[k];
            for (int k = 0; k < sh; k++) dr[k] = pr[k] * (dr[k] - dot);
            for (int k = sh; k < lo; k++) dr[k] = 0f;
            for (int k = lo; k <= q; k++) dr[k] = pr[k] * (dr[k] - dot);
            for (int k = Math.max(q + 1, lo); k < t; k++) dr[k] = 0f;
            dp.put(o, dr, 0, t);
          }
        });
  }

  /**
   * x [N, width] holds {@code parts} blocks of C columns (q, k, v); copies block s into part s of
   * heads [parts, B, H, T, D].
   */
  private void splitHeads(FloatBuffer x, int width, FloatBuffer heads, int parts, Acts a) {
    int t = a.len, n = a.n;
    Parallel.range(
        n,
        parts * nC,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int r = i / t, pos = i % t;
            for (int s = 0; s < parts; s++) {
              for (int h = 0; h < nH; h++) {
                int dst = s * n * nC + ((r * nH + h) * t + pos) * nD;
                heads.put(dst, x, i * width + s * nC + h * nD, nD);
              }
            }
          }
        });
  }

  /** heads [B, H, T, D] starting at {@code from} → columns [col, col + C) of x [N, width]. */
  private void mergeHeads(FloatBuffer heads, int base, FloatBuffer x, int width, int col, Acts a) {
    int t = a.len;
    Parallel.range(
        a.n,
        nC,
        (from, to) -> {
          for (int i = from; i < to; i++) {
            int r = i / t, pos = i % t;
            for (int h = 0; h < nH; h++) {
              x.put(i * width + col + h * nD, heads, base + ((r * nH + h) * t + pos) * nD, nD);
            }
          }
        });
  }

  /**
   * Σ_j nll_j·w_j over scored rows j (token rows[j], label labels[rows[j]]); leaves
   * d(loss)/d(logits) = (softmax − onehot)·w_j in place of the logits.
   */
  private double crossEntropy(
      FloatBuffer logits, int m, int[] labels, int[] rows, float[] weights) {
    double[] nll = new double[m];
    Parallel.range(
        m,
        nV,
        (from, to) -> {
          float[] row = new float[nV];
          for (int j = from; j < to; j++) {
            int o = j * nV, label = labels[rows[j]];
            logits.get(o, row, 0, nV);
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < nV; v++) max = Math.max(max, row[v]);
            float target = row[label];
            double sum = 0;
            for (int v = 0; v < nV; v++) sum += row[v] = FastMath.exp(row[v] - max);
            nll[j] = Math.log(sum) + max - target;
            float w = weights == null ? 1f : weights[rows[j]];
            float scale = (float) (w / sum);
            for (int v = 0; v < nV; v++) row[v] *= scale;
            row[label] -= w;
            logits.put(o, row, 0, nV);
          }
        });
    double loss = 0;
    for (int j = 0; j < m; j++) loss += nll[j] * (weights == null ? 1 : weights[rows[j]]);
    return loss;
  }

  /** Time per phase, for {@code bench --profile}; free when profiling is off. */
  private static final class Clock {
    private long last = StepProfile.enabled() ? System.nanoTime() : 0;

    void lap(String bucket) {
      if (last == 0) return;
      long now = System.nanoTime();
      StepProfile.add(bucket, now - last);
      last = now;
    }
  }
}
