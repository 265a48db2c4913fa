package dev.flantune.model.cpu;

import dev.flantune.model.ModelConfig;
import dev.flantune.model.cpu.Kernels.Buf;
import dev.flantune.model.cpu.Kernels.Storage;
import java.util.ArrayList;
import java.util.List;

/**
 * Every buffer of a step for one batch shape, cut from storages sized to a capacity and reused
 * across steps (no native allocation per step once the largest batch has been seen).
 *
 * <p>Shapes (n = B·T tokens, A = H·D, W = (H + 2KV)·D, U = F or 2F): residual streams [n, C]; per
 * layer the norm outputs [n, C], q|k|v [n, W] as the projection writes them (the fused attention
 * reads its heads from there: {@link FusedAttention}), the attention's logsumexps [B, H, T] (no T×T
 * scores), attention output [n, A], MLP input [n, U] and activation [n, F]; for the backward, the
 * gradient of q|k|v [n, W] among others.
 */
final class Activations {
  /** Per-layer activations kept for the backward pass. */
  static final class Layer {
    Buf ln1, qkv, y, mid, ln2, u, t, g; // t: GELU's tanh (SwiGLU recomputes its sigmoid: null)
    float[] lse; // [B, H, T]
    float[] stats1, stats2; // per row: mean, rstd
  }

  final int rows, len, n;
  final boolean inference;
  final int capTokens;
  private final List<Storage> storages = new ArrayList<>();
  final Buf[] resid;
  final Layer[] layer;
  final Buf lnf;
  final float[] statsF;
  // Backward only.
  Buf dres, dln, dqkv, dy, dU, dH, ones;

  /**
   * {@code inference}: forward only, so every layer reuses one set of buffers and the residual
   * stream is updated in place.
   */
  Activations(
      ModelConfig c, int rows, int len, int capTokens, boolean inference, Activations reuse) {
    this.rows = rows;
    this.len = len;
    this.n = rows * len;
    this.capTokens = capTokens;
    this.inference = inference;
    Storage[] old = reuse == null ? null : reuse.storages.toArray(new Storage[0]);
    int[] next = {0};
    java.util.function.LongFunction<Storage> take =
        cap -> {
          Storage s = old != null ? old[next[0]++] : new Storage(cap);
          storages.add(s);
          return s;
        };
    int nC = c.nEmbd(), nL = c.nLayer(), nF = c.innerSize();
    int attW = c.attnWidth(), qkvW = c.qkvWidth(), upW = c.upWidth();
    long tok = capTokens;
    resid = new Buf[nL + 1];
    for (int l = 0; l <= nL; l++)
      resid[l] = inference && l > 0 ? resid[0] : take.apply(tok * nC).view(0, n, nC);
    layer = new Layer[nL];
    for (int l = 0; l < nL; l++) {
      if (inference && l > 0) {
        layer[l] = layer[0];
        continue;
      }
      Layer la = new Layer();
      la.ln1 = take.apply(tok * nC).view(0, n, nC);
      la.qkv = take.apply(tok * qkvW).view(0, n, qkvW);
      la.lse = new float[n * c.nHead()];
      la.y = take.apply(tok * attW).view(0, n, attW);
      la.mid = take.apply(tok * nC).view(0, n, nC);
      la.ln2 = take.apply(tok * nC).view(0, n, nC);
      la.u = take.apply(tok * upW).view(0, n, upW);
      if (c.mlp() == ModelConfig.Mlp.GELU_TANH) la.t = take.apply(tok * nF).view(0, n, nF);
      la.g = take.apply(tok * nF).view(0, n, nF);
      la.stats1 = new float[2 * n];
      la.stats2 = new float[2 * n];
      layer[l] = la;
    }
    lnf = take.apply(tok * nC).view(0, n, nC);
    statsF = new float[2 * n];
    if (inference) return;
    dres = take.apply(tok * nC).view(0, n, nC);
    dln = take.apply(tok * nC).view(0, n, nC);
    dqkv = take.apply(tok * qkvW).view(0, n, qkvW);
    dy = take.apply(tok * attW).view(0, n, attW);
    dU = take.apply(tok * upW).view(0, n, upW);
    dH = upW == nF ? dU : take.apply(tok * nF).view(0, n, nF);
    Storage one = take.apply(capTokens);
    ones = one.view(0, 1, n);
    ones.arr().assign(1);
  }

  void close() {
    for (Storage s : storages) s.close();
  }
}
