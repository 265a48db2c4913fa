package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Simd.*;

import dev.flantune.model.FastMath;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise passes of the training step on the JDK's Vector API: the MLP nonlinearity ({@link
 * Activation}), the norms ({@link Norm}), RoPE ({@link Rope}) and the cross-entropy ({@link
 * LmHead#crossEntropy}), reading and writing the off-heap buffers in place (byte offsets 4·float
 * index, native order): measured faster than copying rows to arrays and back. Loaded only when the
 * module is present; each lane does exactly the scalar loops' arithmetic: same operations in the
 * same order, fused multiply-adds only where the scalar code calls Math.fma, so both paths give the
 * same bits. Only the preferred float species is used (see {@link Simd#dot}).
 */
final class ElementwiseVector {
  private ElementwiseVector() {}

  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder O = ByteOrder.nativeOrder();

  static int lanes() {
    return F.length();
  }

  /**
   * SwiGLU on one row, the whole vectors of its f columns: gate at float index u, up at u + f;
   * silu(gate)·up to h. Returns how many columns it did.
   */
  static int swiglu(ByteBuffer ub, int u, ByteBuffer hb, int h, int f) {
    int l = F.length(), k = 0;
    for (; k + l <= f; k += l) {
      FloatVector g = load(ub, u + k), up = load(ub, u + f + k);
      g.mul(sigmoid(g)).mul(up).intoByteBuffer(hb, 4 * (h + k), O);
    }
    return k;
  }

  /**
   * SwiGLU's backward on one row's whole vectors: du = [dh·up·σ·(1 + g·(1 − σ)), dh·g·σ] from u =
   * gate|up (float index u) and dh (d), σ = σ(g) recomputed. Returns how many columns it did.
   */
  static int swigluBackward(ByteBuffer ub, int u, ByteBuffer db, int d, ByteBuffer ob, int f) {
    int l = F.length(), k = 0;
    for (; k + l <= f; k += l) {
      FloatVector g = load(ub, u + k), up = load(ub, u + f + k), dh = load(db, d + k);
      FloatVector sg = sigmoid(g), one = FloatVector.broadcast(F, 1f);
      dh.mul(up).mul(sg).mul(g.mul(one.sub(sg)).add(1f)).intoByteBuffer(ob, 4 * (u + k), O);
      dh.mul(g).mul(sg).intoByteBuffer(ob, 4 * (u + f + k), O);
    }
    return k;
  }

  /** GELU (gelu_new) over [from, to)'s whole vectors: t = tanh(…), out = 0.5·x·(1 + t). */
  static int gelu(ByteBuffer xb, ByteBuffer tb, ByteBuffer ob, int from, int to) {
    int l = F.length(), i = from;
    for (; i + l <= to; i += l) {
      FloatVector x = load(xb, i);
      FloatVector th = geluTanh(x);
      th.intoByteBuffer(tb, 4 * i, O);
      x.mul(0.5f).mul(th.add(1f)).intoByteBuffer(ob, 4 * i, O);
    }
    return i;
  }

  /** GELU's backward over [from, to)'s whole vectors: d ← d·gelu_new'(x), from x and t. */
  static int geluBackward(ByteBuffer xb, ByteBuffer tb, ByteBuffer db, int from, int to) {
    int l = F.length(), i = from;
    float k0 = Activation.K0, k3 = 3 * Activation.K1;
    for (; i + l <= to; i += l) {
      FloatVector v = load(xb, i), th = load(tb, i), d = load(db, i);
      FloatVector one = FloatVector.broadcast(F, 1f);
      FloatVector a = th.add(1f).mul(0.5f);
      FloatVector b = v.mul(0.5f).mul(one.sub(th.mul(th))).mul(k0).mul(v.mul(k3).mul(v).add(1f));
      // 0.5f·(1 + th) is (1 + th)·0.5f and b's first factor 0.5f·v is v·0.5f: products commute.
      d.mul(a.add(b)).intoByteBuffer(db, 4 * i, O);
    }
    return i;
  }

  // Norm: row sums as PARTS (16) partial sums, element k into sum k % 16, combined pairwise
  // ({@link Simd#combineParts}): one 16-lane accumulator, or two 8-lane ones. Whole groups of 16
  // here, the tail element by element as in Norm's scalar loops.

  /** Whether the norm kernels run here: 8 or 16 lanes (whole vectors per group of 16). */
  static boolean normLanes() {
    return F.length() == 8 || F.length() == 16;
  }

  /** Σ x[off, off + c) in Norm's fixed order. */
  static float sum(ByteBuffer xb, int off, int c, float[] parts) {
    int k = 0;
    if (F.length() == 16) {
      FloatVector a = FloatVector.zero(F);
      for (; k + 16 <= c; k += 16) a = a.add(load(xb, off + k));
      a.intoArray(parts, 0);
    } else {
      FloatVector a = FloatVector.zero(F), b = a;
      for (; k + 16 <= c; k += 16) {
        a = a.add(load(xb, off + k));
        b = b.add(load(xb, off + k + 8));
      }
      a.intoArray(parts, 0);
      b.intoArray(parts, 8);
    }
    for (; k < c; k++) parts[k % PARTS] += xb.getFloat(4 * (off + k));
    return combineParts(parts, 0);
  }

  /** Σ (x − mean)² over x[off, off + c) in Norm's fixed order (fused multiply-adds). */
  static float squares(ByteBuffer xb, int off, int c, float mean, float[] parts) {
    int k = 0;
    if (F.length() == 16) {
      FloatVector a = FloatVector.zero(F);
      for (; k + 16 <= c; k += 16) {
        FloatVector d = load(xb, off + k).sub(mean);
        a = d.fma(d, a);
      }
      a.intoArray(parts, 0);
    } else {
      FloatVector a = FloatVector.zero(F), b = a;
      for (; k + 16 <= c; k += 16) {
        FloatVector d = load(xb, off + k).sub(mean), e = load(xb, off + k + 8).sub(mean);
        a = d.fma(d, a);
        b = e.fma(e, b);
      }
      a.intoArray(parts, 0);
      b.intoArray(parts, 8);
    }
    for (; k < c; k++) {
      float d = xb.getFloat(4 * (off + k)) - mean;
      parts[k % PARTS] = Math.fma(d, d, parts[k % PARTS]);
    }
    return combineParts(parts, 0);
  }

  // No vector below is assigned on two paths (C2 boxes such merges): branches pick whole loops.

  /** out = (x − mean)·rstd·g (+ b) over one row's whole vectors; returns how many it did. */
  static int normalize(
      ByteBuffer xb,
      int x,
      ByteBuffer ob,
      int o,
      int c,
      float mean,
      float rstd,
      float[] g,
      float[] b) {
    int l = F.length(), k = 0;
    if (b == null) {
      for (; k + l <= c; k += l) {
        FloatVector y = load(xb, x + k).sub(mean).mul(rstd).mul(FloatVector.fromArray(F, g, k));
        y.intoByteBuffer(ob, 4 * (o + k), O);
      }
    } else {
      for (; k + l <= c; k += l) {
        FloatVector y = load(xb, x + k).sub(mean).mul(rstd).mul(FloatVector.fromArray(F, g, k));
        y.add(FloatVector.fromArray(F, b, k)).intoByteBuffer(ob, 4 * (o + k), O);
      }
    }
    return k;
  }

  /**
   * Norm's backward, first pass over one row: with x̂ = (x − mean)·rstd and dx̂ = dy·g, dg += dy·x̂
   * and db += dy, and Σ dx̂, Σ dx̂·x̂ into the partial sums p1, p2, over whole groups of 16.
   * Returns how many elements it did.
   */
  static int normGradients(
      ByteBuffer dyb,
      ByteBuffer xb,
      int off,
      int c,
      float mean,
      float rstd,
      float[] g,
      float[] dg,
      float[] db,
      float[] p1,
      float[] p2) {
    int k = 0;
    if (F.length() == 16) {
      FloatVector s1 = FloatVector.zero(F), s2 = s1;
      for (; k + 16 <= c; k += 16) {
        FloatVector dy = load(dyb, off + k), xh = load(xb, off + k).sub(mean).mul(rstd);
        FloatVector dxh = dy.mul(FloatVector.fromArray(F, g, k));
        gainGradients(dy, xh, dg, db, k);
        s1 = s1.add(dxh);
        s2 = dxh.fma(xh, s2);
      }
      s1.intoArray(p1, 0);
      s2.intoArray(p2, 0);
    } else {
      FloatVector s1 = FloatVector.zero(F), s2 = s1, t1 = s1, t2 = s1;
      for (; k + 16 <= c; k += 16) {
        FloatVector dy = load(dyb, off + k), xh = load(xb, off + k).sub(mean).mul(rstd);
        FloatVector dxh = dy.mul(FloatVector.fromArray(F, g, k));
        gainGradients(dy, xh, dg, db, k);
        s1 = s1.add(dxh);
        s2 = dxh.fma(xh, s2);
        dy = load(dyb, off + k + 8);
        xh = load(xb, off + k + 8).sub(mean).mul(rstd);
        dxh = dy.mul(FloatVector.fromArray(F, g, k + 8));
        gainGradients(dy, xh, dg, db, k + 8);
        t1 = t1.add(dxh);
        t2 = dxh.fma(xh, t2);
      }
      s1.intoArray(p1, 0);
      s2.intoArray(p2, 0);
      t1.intoArray(p1, 8);
      t2.intoArray(p2, 8);
    }
    return k;
  }

  private static void gainGradients(FloatVector dy, FloatVector xh, float[] dg, float[] db, int k) {
    FloatVector.fromArray(F, dg, k).add(dy.mul(xh)).intoArray(dg, k);
    FloatVector.fromArray(F, db, k).add(dy).intoArray(db, k);
  }

  /**
   * Norm's backward, second pass over one row's whole vectors: dx (+)= rstd·(dx̂ − m1 − x̂·m2).
   * Returns how many elements it did.
   */
  static int normInput(
      ByteBuffer dyb,
      ByteBuffer xb,
      ByteBuffer dxb,
      int off,
      int c,
      float mean,
      float rstd,
      float[] g,
      float m1,
      float m2,
      boolean accumulate) {
    int l = F.length(), k = 0;
    if (accumulate) {
      for (; k + l <= c; k += l) {
        FloatVector v = inputGradient(dyb, xb, off + k, k, mean, rstd, g, m1, m2);
        load(dxb, off + k).add(v).intoByteBuffer(dxb, 4 * (off + k), O);
      }
    } else {
      for (; k + l <= c; k += l) {
        inputGradient(dyb, xb, off + k, k, mean, rstd, g, m1, m2)
            .intoByteBuffer(dxb, 4 * (off + k), O);
      }
    }
    return k;
  }

  private static FloatVector inputGradient(
      ByteBuffer dyb,
      ByteBuffer xb,
      int at,
      int k,
      float mean,
      float rstd,
      float[] g,
      float m1,
      float m2) {
    FloatVector xh = load(xb, at).sub(mean).mul(rstd);
    FloatVector dxh = load(dyb, at).mul(FloatVector.fromArray(F, g, k));
    return dxh.sub(m1).sub(xh.mul(m2)).mul(rstd);
  }

  /**
   * RoPE on one head vector at float index x (halves [x, x + half) and [x + half, x + 2·half)) with
   * cos/sin from c, s at {@code at}, over the whole vectors of a half; returns how many it did.
   */
  static int rotate(ByteBuffer xb, int x, int half, float[] c, float[] s, int at, float sign) {
    int l = F.length(), i = 0;
    for (; i + l <= half; i += l) {
      FloatVector x1 = load(xb, x + i), x2 = load(xb, x + half + i);
      FloatVector ci = FloatVector.fromArray(F, c, at + i);
      FloatVector si = FloatVector.fromArray(F, s, at + i).mul(sign);
      x1.mul(ci).sub(x2.mul(si)).intoByteBuffer(xb, 4 * (x + i), O);
      x2.mul(ci).add(x1.mul(si)).intoByteBuffer(xb, 4 * (x + half + i), O);
    }
    return i;
  }

  /** max over x[off, off + n)'s whole vectors (n ≥ lanes), and the element-wise tail. */
  static float max(ByteBuffer xb, int off, int n) {
    int l = F.length(), k = l;
    FloatVector m = load(xb, off);
    for (; k + l <= n; k += l) m = m.max(load(xb, off + k));
    float r = m.reduceLanes(VectorOperators.MAX);
    for (; k < n; k++) r = Math.max(r, xb.getFloat(4 * (off + k)));
    return r;
  }

  /**
   * x[off, off + n) ← e^(x − max) in place; returns their sum in {@link LmHead#expShifted}'s order:
   * blocks of {@link LmHead#SUM_BLOCK}, each as 16 fp32 partial sums (element k into k % 16)
   * combined pairwise, the blocks' sums added in fp64 in order.
   */
  static double expSum(ByteBuffer xb, int off, int n, float max, float[] parts) {
    double total = 0;
    for (int b0 = 0; b0 < n; b0 += LmHead.SUM_BLOCK) {
      int end = Math.min(n, b0 + LmHead.SUM_BLOCK), k = b0;
      if (F.length() == 16) {
        FloatVector a = FloatVector.zero(F);
        for (; k + 16 <= end; k += 16) a = a.add(expStore(xb, off + k, max));
        a.intoArray(parts, 0);
      } else {
        FloatVector a = FloatVector.zero(F), b = a;
        for (; k + 16 <= end; k += 16) {
          a = a.add(expStore(xb, off + k, max));
          b = b.add(expStore(xb, off + k + 8, max));
        }
        a.intoArray(parts, 0);
        b.intoArray(parts, 8);
      }
      for (; k < end; k++) {
        float e = Simd.exp(xb.getFloat(4 * (off + k)) - max);
        xb.putFloat(4 * (off + k), e);
        parts[k % PARTS] += e;
      }
      total += combineParts(parts, 0);
    }
    return total;
  }

  private static FloatVector expStore(ByteBuffer xb, int at, float max) {
    FloatVector e = SimdVector.exp(load(xb, at).sub(max));
    e.intoByteBuffer(xb, 4 * at, O);
    return e;
  }

  /** x[off, off + n) ← c·x over the whole vectors; returns how many it did. */
  static int scale(ByteBuffer xb, int off, int n, float c) {
    int l = F.length(), k = 0;
    for (; k + l <= n; k += l) load(xb, off + k).mul(c).intoByteBuffer(xb, 4 * (off + k), O);
    return k;
  }

  private static FloatVector load(ByteBuffer b, int at) {
    return FloatVector.fromByteBuffer(F, b, 4 * at, O);
  }

  /** {@link Activation#sigmoid} lane by lane: 1/(1 + e) for x ≥ 0, e/(1 + e) below, e = e^−|x|. */
  static FloatVector sigmoid(FloatVector x) {
    FloatVector e = SimdVector.exp(x.abs().neg());
    FloatVector one = FloatVector.broadcast(F, 1f);
    VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
    return e.blend(one, pos).div(e.add(1f));
  }

  /** {@link Activation#geluTanh} lane by lane, with {@link dev.flantune.model.FastMath#tanh}. */
  static FloatVector geluTanh(FloatVector x) {
    FloatVector inner = x.mul(Activation.K1).mul(x).mul(x).add(x).mul(Activation.K0);
    return tanh(inner);
  }

  /**
   * {@link dev.flantune.model.FastMath#tanh} lane by lane (no fused multiply-adds: it has none).
   */
  static FloatVector tanh(FloatVector v) {
    FloatVector x = v.min(FastMath.TANH_CLAMP).max(-FastMath.TANH_CLAMP);
    FloatVector x2 = x.mul(x);
    FloatVector p = x2.mul(-2.76076847742355e-16f).add(2.00018790482477e-13f);
    p = p.mul(x2).add(-8.60467152213735e-11f);
    p = p.mul(x2).add(5.12229709037114e-08f);
    p = p.mul(x2).add(1.48572235717979e-05f);
    p = p.mul(x2).add(6.37261928875436e-04f);
    p = p.mul(x2).add(4.89352455891786e-03f);
    p = p.mul(x);
    FloatVector q = x2.mul(1.19825839466702e-06f).add(1.18534705686654e-04f);
    q = q.mul(x2).add(2.26843463243900e-03f);
    q = q.mul(x2).add(4.89352518554385e-03f);
    return p.div(q);
  }
}
