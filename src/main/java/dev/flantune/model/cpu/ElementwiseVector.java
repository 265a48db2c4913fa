package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.Simd.*;

import dev.flantune.model.FastMath;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The elementwise passes of the training step ({@link Activation}) on the JDK's Vector API, reading
 * and writing the off-heap activation buffers in place (byte offsets 4·float index, native order).
 * Loaded only when the module is present; each lane does exactly the scalar loops' arithmetic: same
 * operations in the same order, fused multiply-adds only where the scalar code calls Math.fma, so
 * both paths give the same bits.
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

  private static FloatVector load(ByteBuffer b, int at) {
    return FloatVector.fromByteBuffer(F, b, 4 * at, O);
  }

  /** {@link Activation#sigmoid} lane by lane: 1/(1 + e) for x ≥ 0, e/(1 + e) below, e = e^−|x|. */
  static FloatVector sigmoid(FloatVector x) {
    FloatVector e = exp(x.abs().neg());
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

  /** {@link Simd#exp} lane by lane. */
  static FloatVector exp(FloatVector x) {
    FloatVector v = x.max(EXP_MIN).min(EXP_MAX);
    FloatVector t = v.fma(LOG2E, ROUND);
    FloatVector k = t.sub(ROUND);
    FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), v);
    r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
    FloatVector p = r.fma(P0, P1);
    p = p.fma(r, FloatVector.broadcast(F, P2));
    p = p.fma(r, FloatVector.broadcast(F, P3));
    p = p.fma(r, FloatVector.broadcast(F, P4));
    p = p.fma(r, FloatVector.broadcast(F, P5));
    p = p.fma(r.mul(r), r).add(1f);
    IntVector ki = t.reinterpretAsInts().sub(ROUND_BITS);
    IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1), k2 = ki.sub(k1);
    FloatVector s1 = k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector s2 = k2.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    return p.mul(s1).mul(s2);
  }
}
