package dev.flantune.model.cpu;

import dev.flantune.data.Batch;
import dev.flantune.model.CausalLm;
import dev.flantune.model.Decoder;
import dev.flantune.model.FlatParameters;
import dev.flantune.model.GradientEngine;
import dev.flantune.model.HalfPrecision;
import dev.flantune.model.KeyRanges;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.ParamTable;
import dev.flantune.model.ParamTable.Role;
import dev.flantune.model.StepProfile;
import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.model.lora.LoraAdapter;
import dev.flantune.util.Parallel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The decoder's forward and backward written out by hand, on activation buffers allocated once: the
 * engine for training, scoring ({@link #score}) and generation ({@link #decoder}) on CPU, for every
 * family a {@link ModelConfig} describes. A block is wired once ({@link #forward}, {@link
 * #accumulate}); the kernels it calls are per component ({@link Norm}, {@link Linear}, {@link
 * Activation}, {@link Rope}, {@link FusedAttention}), so a faster kernel replaces one class, not
 * the wiring.
 *
 * <p>Every matrix product goes to ND4J's GEMM (oneDNN) with a preallocated output; weight gradients
 * are accumulated in place (β = 1) and residual additions ride on the GEMM that produces them. No
 * native memory is allocated per step once the buffers exist.
 *
 * <p>Shape letters: N = B·T tokens (row-major, index b·T + t), C hidden, H query heads, KV
 * key/value heads, G = H/KV, D head size, F MLP width, V vocabulary, M scored rows. Query q of a
 * row attends to the keys {@link KeyRanges} gives it; padding queries attend to nothing (their rows
 * are never scored).
 */
public final class CpuEngine implements GradientEngine {
  private final CausalLm model;
  private final ModelConfig cfg;
  private final int nC, nH, nKv, nD, nF, nV, nL;
  private final FlatParameters params;
  private final FloatBuffer pw; // the whole flat parameter buffer
  private FlatParameters grads; // allocated by the first training call
  private FloatBuffer gw;
  private boolean gradientsKnownZero; // see gradientsZeroed()
  private final List<Param> all = new ArrayList<>();
  private final Param wte, wpe, head; // wpe null with RoPE
  private final Norm finalNorm;
  private final Block[] blocks;
  private final Rope rope; // null with learned positions
  private Activations trainActs, inferActs;
  private final LmHead lmHead;
  private CpuDecoder capturing; // set while a decoder's prompt goes through forward()
  private long scoredBatches;
  // LoRA: the adapter whose paths sit beside the frozen projections (null: a full fine-tune).
  private final LoraAdapter adapter;
  private final LoraPath.Scratch loraScratch;
  private final List<LoraPath> loraPaths = new ArrayList<>();
  private long dropoutStep, dropoutMicro;
  // A frozen base held in two bytes (model_dtype bf16/f16): where it lives, and the fp32 scratch
  // its weights are widened into, a projection (or HEAD_CHUNK rows of the LM head) at a time.
  private final Param.Half halfStore;
  private Storage widened;

  /** One transformer block: pre-norm attention and pre-norm MLP, each added to the residual. */
  record Block(Norm attnNorm, Linear qkv, Linear out, Norm mlpNorm, Linear up, Linear down) {}

  /** Whether this engine can run the model (its loops index with ints). */
  public static boolean supports(CausalLm model) {
    return model.parameters().flat().length() < Integer.MAX_VALUE;
  }

  public CpuEngine(CausalLm model) {
    if (!supports(model))
      throw tooLarge("a model of " + model.parameters().flat().length() + " parameters");
    this.model = model;
    cfg = model.config();
    nC = cfg.nEmbd();
    nH = cfg.nHead();
    nKv = cfg.nKvHead();
    nD = cfg.headSize();
    nF = cfg.innerSize();
    nV = cfg.vocabSize();
    nL = cfg.nLayer();
    params = model.parameters();
    DataType storage = params.flat().dataType();
    halfStore =
        HalfPrecision.isHalf(storage)
            ? new Param.Half(HalfPrecision.shorts(params.flat()), storage)
            : null;
    pw = halfStore == null ? params.flat().data().asNioFloat() : null;
    ParamTable table = model.table();
    boolean outIn = cfg.layout() == ModelConfig.Layout.LINEAR;
    boolean rms = cfg.norm() == ModelConfig.Norm.RMS_NORM;
    wte = param(table, -1, Role.EMBED);
    wpe = cfg.learnedPositions() ? param(table, -1, Role.POSITIONS) : null;
    head = cfg.tied() ? wte : param(table, -1, Role.LM_HEAD);
    finalNorm =
        new Norm(
            param(table, -1, Role.FINAL_NORM),
            optional(table, -1, Role.FINAL_NORM_BIAS),
            rms,
            cfg.normEps(),
            nC);
    rope = cfg.learnedPositions() ? null : new Rope(cfg.rope(), nD);
    blocks = new Block[nL];
    for (int l = 0; l < nL; l++) {
      Linear qkv =
          outIn
              ? linear(table, l, true, Role.Q, Role.K, Role.V)
              : linear(table, l, false, Role.QKV);
      Linear up =
          cfg.mlp() == ModelConfig.Mlp.SWIGLU
              ? linear(table, l, outIn, Role.GATE, Role.UP)
              : linear(table, l, outIn, Role.UP);
      blocks[l] =
          new Block(
              new Norm(
                  param(table, l, Role.ATTN_NORM),
                  optional(table, l, Role.ATTN_NORM_BIAS),
                  rms,
                  cfg.normEps(),
                  nC),
              qkv,
              linear(table, l, outIn, Role.O),
              new Norm(
                  param(table, l, Role.MLP_NORM),
                  optional(table, l, Role.MLP_NORM_BIAS),
                  rms,
                  cfg.normEps(),
                  nC),
              up,
              linear(table, l, outIn, Role.DOWN));
    }
    adapter = model.adapter();
    loraScratch = adapter == null ? null : attach(adapter, table);
    if (halfStore != null) {
      // One fp32 scratch into which each two-byte weight is widened right before its GEMM.
      long widest = (long) LmHead.chunkRows() * nC;
      for (Block blk : blocks)
        for (Linear lin : List.of(blk.qkv(), blk.out(), blk.up(), blk.down()))
          widest = Math.max(widest, lin.w.length);
      widened = new Storage(widest);
      for (Block blk : blocks)
        for (Linear lin : List.of(blk.qkv(), blk.out(), blk.up(), blk.down()))
          lin.widenInto(widened);
    }
    lmHead = new LmHead(head, params.flat(), nC, nV, widened);
  }

  /** The bias role of each projection role. */
  private static final Map<Role, Role> BIAS =
      Map.of(
          Role.QKV, Role.QKV_BIAS,
          Role.Q, Role.Q_BIAS,
          Role.K, Role.K_BIAS,
          Role.V, Role.V_BIAS,
          Role.O, Role.O_BIAS,
          Role.GATE, Role.GATE_BIAS,
          Role.UP, Role.UP_BIAS,
          Role.DOWN, Role.DOWN_BIAS);

  /**
   * One projection over the adjacent weights of {@code roles} (one GEMM for q|k|v or gate|up),
   * remembering where each role's outputs start so that a LoRA path can be put beside it.
   */
  private Linear linear(ParamTable table, int layer, boolean outIn, Role... roles) {
    Role[] biases = new Role[roles.length];
    for (int i = 0; i < roles.length; i++) biases[i] = BIAS.get(roles[i]);
    Linear lin = new Linear(param(table, layer, roles), optional(table, layer, biases), outIn);
    int col = 0;
    for (Role r : roles) {
      projections.put(new ParamTable.Slot(r, layer), new Placement(lin, col));
      long[] shape = table.shapes().get(table.name(r, layer));
      col += (int) shape[outIn ? 0 : 1];
    }
    return lin;
  }

  /** Where a projection's outputs sit inside the (possibly fused) {@link Linear} computing it. */
  private record Placement(Linear linear, int col) {}

  private final Map<ParamTable.Slot, Placement> projections = new java.util.HashMap<>();

  /** Puts each adapter module's low-rank path beside its frozen projection. */
  private LoraPath.Scratch attach(LoraAdapter adapter, ParamTable table) {
    LoraPath.Scratch scratch = new LoraPath.Scratch(adapter.spec().dropout());
    int index = 0;
    for (LoraAdapter.Module m : adapter.modules()) {
      Placement at = projections.get(m.slot());
      if (at == null) throw new IllegalStateException("no projection for " + m.path());
      LoraPath path =
          new LoraPath(adapter.a(m), adapter.b(m), at.col(), adapter.spec().scaling(), index++);
      at.linear().addLora(path, scratch);
      loraPaths.add(path);
    }
    return scratch;
  }

  private Param optional(ParamTable table, int layer, Role... roles) {
    return table.name(roles[0], layer) == null ? null : param(table, layer, roles);
  }

  /**
   * The tensors of {@code roles}, adjacent in the flat buffer (the table orders fused operands so),
   * as one parameter: matrices stacked along their first axis, vectors concatenated as [1, K].
   */
  private Param param(ParamTable table, int layer, Role... roles) {
    long offset = -1, end = -1, rowsTotal = 0;
    long[] first = null;
    for (Role r : roles) {
      String name = table.name(r, layer);
      if (name == null) throw new IllegalStateException("no " + r + " in layer " + layer);
      INDArray w = params.views().get(name);
      if (offset < 0) {
        offset = w.offset();
        first = w.shape();
      } else if (w.offset() != end) {
        throw new IllegalStateException(name + " is not adjacent to the tensor before it");
      }
      end = w.offset() + w.length();
      rowsTotal += w.rank() == 1 ? w.length() : w.size(0);
    }
    // Vectors as [1, K] so they can be GEMM operands (bias gradients are 1ᵀ·dY).
    long[] shape = first.length == 1 ? new long[] {1, rowsTotal} : new long[] {rowsTotal, first[1]};
    Param p =
        new Param(Kernels.view(params.flat(), offset, shape), Math.toIntExact(offset), halfStore);
    all.add(p);
    return p;
  }

  /**
   * Allocates the gradient buffers on first use: laid out like the parameters, or with an adapter
   * like the adapter's buffer (the frozen base then has no gradient buffer at all).
   */
  private void ensureGradients() {
    if (grads != null) return;
    if (halfStore != null && adapter == null)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "a base held in two bytes is frozen: train a LoRA adapter on it (lora:), or use"
              + " model_dtype: f32");
    if (adapter != null) {
      grads = adapter.parameters().zerosLike();
      for (LoraPath p : loraPaths) {
        p.ga = grads.views().get(adapter.modules().get(p.index).aName());
        p.gb = grads.views().get(adapter.modules().get(p.index).bName());
      }
      return;
    }
    grads = params.zerosLike();
    if (grads.flat().offset() != params.flat().offset()) throw new IllegalStateException("layout");
    gw = grads.flat().data().asNioFloat();
    for (Param p : all) p.g = Kernels.view(grads.flat(), p.off, p.w.shape());
  }

  @Override
  public CausalLm model() {
    return model;
  }

  @Override
  public Map<String, INDArray> gradients() {
    ensureGradients();
    gradientsKnownZero = false;
    return grads.views();
  }

  @Override
  public FlatParameters gradientBuffer() {
    ensureGradients();
    gradientsKnownZero = false;
    return grads;
  }

  @Override
  public FlatParameters trainable() {
    return adapter != null ? adapter.parameters() : params;
  }

  @Override
  public void beginStep(long step) {
    dropoutStep = step;
    dropoutMicro = 0;
  }

  @Override
  public void zeroGradients() {
    ensureGradients();
    if (!gradientsKnownZero) grads.flat().assign(0);
    gradientsKnownZero = false;
  }

  @Override
  public void gradientsZeroed() {
    gradientsKnownZero = grads != null;
  }

  @Override
  public String name() {
    return "cpu";
  }

  // ---------------------------------------------------------------------------------------------
  // The step

  @Override
  public double accumulate(Batch b, float[] lossWeights) {
    gradientsKnownZero = false;
    int[] rows = CausalLm.lossRows(b);
    if (rows.length == 0) return 0;
    ensureGradients();
    model.checkIds(b);
    KeyRanges keys = KeyRanges.of(b);
    Clock clock = new Clock();
    trainActs = acts(trainActs, b.rows(), b.length(), false);
    Activations a = trainActs;
    int n = a.n, t = a.len;
    if (loraScratch != null) {
      loraScratch.training = true;
      loraScratch.key = dropoutStep * 0x10001L + dropoutMicro++;
    }
    forward(b, keys, a, clock);

    // LM head on the scored rows, cross-entropy, and its gradient in place of the logits.
    int m = rows.length;
    Buf lg = lmHead.logits(a.lnf.fb(), rows, a.n);
    clock.lap("gemm: LM head");
    double loss = lmHead.crossEntropy(lg.bytes(), m, b.labels(), rows, lossWeights);
    clock.lap("cross-entropy");

    // Backward.
    Buf dIn = lmHead.backward(lg, m);
    clock.lap("gemm: LM head");
    Kernels.zero(a.dln.fb(), n * nC);
    Kernels.scatterRows(dIn.fb(), rows, a.dln.fb(), nC);
    finalNorm.backward(
        a.dln.bytes(), a.resid[nL].bytes(), a.statsF, a.dres.bytes(), false, pw, gw, n);
    clock.lap("norm");
    float scale = (float) (1 / Math.sqrt(nD));
    for (int l = nL - 1; l >= 0; l--) {
      Block p = blocks[l];
      Activations.Layer la = a.layer[l];
      // MLP: resid[l+1] = mid + down(act(up(norm(mid)))).
      p.down().backward(la.g, a.dres, a.dH, 0, a.ones, n);
      clock.lap("gemm");
      if (cfg.mlp() == ModelConfig.Mlp.SWIGLU) {
        Activation.swigluBackward(la.u.bytes(), a.dH.bytes(), a.dU.bytes(), n, nF);
      } else {
        Activation.geluBackward(la.u.bytes(), la.t.bytes(), a.dU.bytes(), n * nF);
      }
      clock.lap("mlp activation");
      p.up().backward(la.ln2, a.dU, a.dln, 0, a.ones, n);
      clock.lap("gemm");
      p.mlpNorm()
          .backward(a.dln.bytes(), la.mid.bytes(), la.stats2, a.dres.bytes(), true, pw, gw, n);
      clock.lap("norm");
      // Attention: mid = resid[l] + out(attend(qkv(norm(resid[l])))).
      p.out().backward(la.y, a.dres, a.dy, 0, a.ones, n);
      clock.lap("gemm");
      FusedAttention.backward(
          la.qkv.fb(), la.y.fb(), la.lse, a.dy.fb(), a.dqkv.fb(), keys, dims(a), scale);
      clock.lap("attention: fused backward");
      if (rope != null) { // q's heads and k's, side by side in each token's row
        rope.apply(a.dqkv.bytes(), 0, cfg.qkvWidth(), n, nH + nKv, b.positionIds(), true);
        clock.lap("rope");
      }
      // With a frozen embedding (a LoRA run) nothing below layer 0's projections needs a gradient.
      boolean inputGrad = gw != null || l > 0;
      p.qkv().backward(la.ln1, a.dqkv, inputGrad ? a.dln : null, 0, a.ones, n);
      clock.lap("gemm");
      if (inputGrad)
        p.attnNorm()
            .backward(
                a.dln.bytes(), a.resid[l].bytes(), la.stats1, a.dres.bytes(), true, pw, gw, n);
      clock.lap("norm");
    }
    if (gw != null) embedBackward(b, a.dres.fb());
    clock.lap("embedding");
    return loss;
  }

  /** The fused attention's sizes, reading q|k|v where the projection wrote them (token-major). */
  private FusedAttention.Dims dims(Activations a) {
    return new FusedAttention.Dims(a.rows, a.len, nH, nKv, nD, true);
  }

  /**
   * −ln P(label) and the model's most likely token at the positions whose loss mask is non-zero (0
   * and −1 elsewhere), by a forward pass alone, query i attending to the keys {@code keys} gives
   * it.
   */
  public CausalLm.TokenScores score(Batch b, KeyRanges keys) {
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
    if (loraScratch != null) loraScratch.training = false;
    forward(b, keys, inferActs, clock);
    int m = rows.length;
    FloatBuffer lg = lmHead.logits(inferActs.lnf.fb(), rows, inferActs.n).fb();
    clock.lap("gemm: LM head");
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
            float target = row[labels[rows[j]]];
            double sum = lmHead.expShifted(row, max);
            nll[rows[j]] = Math.log(sum) + max - target;
            argmax[rows[j]] = best;
          }
        });
    clock.lap("cross-entropy");
    return new CausalLm.TokenScores(nll, argmax);
  }

  /** Batches scored so far (tests check which engine scoring took). */
  public long scoredBatches() {
    return scoredBatches;
  }

  /** The forward pass up to the final norm, into {@code a}. */
  private void forward(Batch b, KeyRanges keys, Activations a, Clock clock) {
    int n = a.n, t = a.len;
    float scale = (float) (1 / Math.sqrt(nD));
    embed(b, a.resid[0].fb());
    clock.lap("embedding");
    for (int l = 0; l < nL; l++) {
      Block p = blocks[l];
      Activations.Layer la = a.layer[l];
      p.attnNorm().forward(a.resid[l].bytes(), la.ln1.bytes(), la.stats1, pw, n);
      clock.lap("norm");
      p.qkv().forward(la.ln1, la.qkv, null, pw, n);
      clock.lap("gemm");
      if (rope != null) { // q's heads and k's, side by side in each token's row
        rope.apply(la.qkv.bytes(), 0, cfg.qkvWidth(), n, nH + nKv, b.positionIds(), false);
        clock.lap("rope");
      }
      if (capturing != null) capturing.store(l, la.qkv.fb(), a.len);
      FusedAttention.forward(la.qkv.fb(), la.y.fb(), la.lse, keys, dims(a), scale);
      clock.lap("attention: fused forward");
      p.out().forward(la.y, la.mid, a.resid[l].fb(), pw, n);
      clock.lap("gemm");
      p.mlpNorm().forward(la.mid.bytes(), la.ln2.bytes(), la.stats2, pw, n);
      clock.lap("norm");
      p.up().forward(la.ln2, la.u, null, pw, n);
      clock.lap("gemm");
      if (cfg.mlp() == ModelConfig.Mlp.SWIGLU) {
        Activation.swiglu(la.u.bytes(), la.g.bytes(), n, nF);
      } else {
        Activation.gelu(la.u.bytes(), la.t.bytes(), la.g.bytes(), n * nF);
      }
      clock.lap("mlp activation");
      p.down().forward(la.g, a.resid[l + 1], la.mid.fb(), pw, n);
      clock.lap("gemm");
    }
    finalNorm.forward(a.resid[nL].bytes(), a.lnf.bytes(), a.statsF, pw, n);
    clock.lap("norm");
  }

  // ---------------------------------------------------------------------------------------------
  // Generation: the decoder shares the blocks and the prompt's forward pass.

  /** A key/value-cache decoder on this model's live weights. */
  public Decoder decoder() {
    requireDecodable();
    return new CpuDecoder(this);
  }

  ModelConfig config() {
    return cfg;
  }

  /** Decoders run fp32 weights with any adapter merged (inference loads models so). */
  private void requireDecodable() {
    if (adapter != null || halfStore != null)
      throw new IllegalStateException(
          "decode an fp32 model, with any adapter merged (LoraAdapter.mergeInto)");
  }

  Block block(int l) {
    return blocks[l];
  }

  Rope rope() {
    return rope;
  }

  Norm finalNorm() {
    return finalNorm;
  }

  FloatBuffer weights() {
    return pw;
  }

  /** x = wte[id] (+ wpe[p]) for one token. */
  void embedRow(int id, int p, float[] x) {
    wte.readRange(pw, id * nC, x, nC);
    if (wpe != null) {
      float[] posRow = new float[nC];
      wpe.readRange(pw, p * nC, posRow, nC);
      for (int c = 0; c < nC; c++) x[c] += posRow[c];
    }
  }

  /** The prompt through {@link #forward}, its keys and values handed to {@code d}; returns hf. */
  FloatBuffer prefill(Batch b, CpuDecoder d) {
    inferActs = acts(inferActs, 1, b.length(), true);
    capturing = d;
    try {
      forward(b, KeyRanges.of(b), inferActs, new Clock());
    } finally {
      capturing = null;
    }
    return inferActs.lnf.fb();
  }

  /** logits = head · h for one row (decoding). */
  float[] headRow(float[] hRow, Storage in, Storage out) {
    return lmHead.row(hRow, in, out);
  }

  /** The LM head's weights [V, C] (batched decoding keeps a transposed copy). */
  INDArray headWeights() {
    requireDecodable();
    return lmHead.weights();
  }

  // ---------------------------------------------------------------------------------------------
  // Buffers

  /** Buffers for a batch of {@code rows} × {@code len}, reusing {@code current}'s when they fit. */
  private Activations acts(Activations current, int rows, int len, boolean inference) {
    if (current != null && current.rows == rows && current.len == len) return current;
    int n = rows * len;
    long widest = Math.max(cfg.upWidth(), cfg.qkvWidth());
    if ((long) n * widest >= Integer.MAX_VALUE)
      throw tooLarge("a batch of " + rows + " × " + len + " tokens");
    if (current != null && n <= current.capTokens) {
      return new Activations(cfg, rows, len, current.capTokens, inference, current);
    }
    int capTokens = Math.max(n, current == null ? 0 : current.capTokens);
    if (current != null) current.close();
    return new Activations(cfg, rows, len, capTokens, inference, null);
  }

  static RuntimeException tooLarge(String what) {
    return dev.flantune.util.FlanTuneException.badUsage(
        what
            + " needs arrays past 2^31 values; lower train.batch_size (train.grad_accum keeps the"
            + " effective batch) or set FLAN_TUNE_ENGINE=graph");
  }

  // ---------------------------------------------------------------------------------------------
  // Loops

  /** x[i] = wte[id_i] (+ wpe[pos_i] with learned positions). */
  private void embed(Batch b, FloatBuffer x) {
    int[] ids = b.inputIds(), pos = b.positionIds();
    Parallel.range(
        ids.length,
        nC,
        (from, to) -> {
          float[] row = new float[nC], prow = new float[nC];
          for (int i = from; i < to; i++) {
            wte.readRange(pw, ids[i] * nC, row, nC);
            if (wpe != null) {
              wpe.readRange(pw, pos[i] * nC, prow, nC);
              for (int c = 0; c < nC; c++) row[c] += prow[c];
            }
            x.put(i * nC, row, 0, nC);
          }
        });
  }

  /** dwte[id_i] += dx[i] (and dwpe[pos_i]); split by columns so the sums keep their order. */
  private void embedBackward(Batch b, FloatBuffer dx) {
    int[] ids = b.inputIds(), pos = b.positionIds();
    int n = ids.length;
    Parallel.range(
        nC,
        2L * n,
        (from, to) -> {
          for (int i = 0; i < n; i++) {
            int t = wte.off + ids[i] * nC, o = i * nC;
            int p = wpe == null ? -1 : wpe.off + pos[i] * nC;
            for (int c = from; c < to; c++) {
              float d = dx.get(o + c);
              gw.put(t + c, gw.get(t + c) + d);
              if (p >= 0) gw.put(p + c, gw.get(p + c) + d);
            }
          }
        });
  }

  /** Time per phase, for {@code bench --profile}; free when profiling is off. */
  static final class Clock {
    private long last = StepProfile.enabled() ? System.nanoTime() : 0;

    void lap(String bucket) {
      if (last == 0) return;
      long now = System.nanoTime();
      StepProfile.add(bucket, now - last);
      last = now;
    }
  }
}
