package dev.flantune.model.cpu;

import dev.flantune.model.ModelConfig;
import dev.flantune.model.cpu.Kernels.Storage;
import dev.flantune.util.Parallel;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Not a test: times the training step's elementwise passes on the SmolLM2-135M shapes (1024 tokens,
 * C 576, F 1536, 12 RoPE heads of 64, V 49152) and GPT-2 small's (GELU F 3072, LayerNorm C 768),
 * before and after issue #17's Vector API kernels, the variants alternated in one process and
 * medians reported (the machine is shared, so only same-process alternations compare). Only
 * variants whose name contains {@code filter} run; the cross-entropy (200 MB of logits) only when
 * the filter says "entropy", the gradient norm's sums only when it says "sum of squares" (run its
 * two variants in separate processes). From the project root after {@code mvnl -o -B -q
 * test-compile}:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Xmx2g -cp 'target/classes:target/test-classes:target/lib/*' \
 *     dev.flantune.model.cpu.ElementwiseTiming [rounds] [filter]
 * </pre>
 */
public final class ElementwiseTiming {
  private ElementwiseTiming() {}

  private static final int N = 1024, F = 1536, GF = 3072;
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

  /** Arrays whose memory is used only through NIO buffers (ND4J frees it once unreachable). */
  private static final List<Object> KEEP = new ArrayList<>();

  private record Variant(String name, Runnable run) {}

  public static void main(String[] args) {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    String filter = args.length > 1 ? args[1] : "";
    Random r = new Random(1);
    Storage u = filled(r, 2L * N * GF), s = filled(r, (long) N * GF), h = filled(r, (long) N * GF);
    Storage d = filled(r, (long) N * GF), du = filled(r, 2L * N * GF);
    KEEP.addAll(List.of(u, s, h, d, du));
    ByteBuffer ub = u.bytes, sb = s.bytes, hb = h.bytes, db = d.bytes, dub = du.bytes;
    List<Variant> vs = new ArrayList<>();
    vs.add(
        new Variant(
            "swiglu fwd: before (row copies, scalar)", () -> oldSwiglu(u.fb, s.fb, h.fb, N, F)));
    vs.add(
        new Variant(
            "swiglu fwd: vector on the buffers", () -> Activation.swiglu(ub, hb, N, F, true)));
    vs.add(new Variant("swiglu fwd: scalar path", () -> Activation.swiglu(ub, hb, N, F, false)));
    vs.add(
        new Variant(
            "bulk copies of the old forward traffic (reference)",
            () -> floor(u.fb, h.fb, N, 2 * F, F, s.fb)));
    vs.add(
        new Variant("swiglu bwd: before", () -> oldSwigluBackward(u.fb, s.fb, d.fb, du.fb, N, F)));
    vs.add(
        new Variant(
            "swiglu bwd: vector on the buffers",
            () -> Activation.swigluBackward(ub, db, dub, N, F, true)));
    vs.add(
        new Variant(
            "swiglu bwd: scalar path", () -> Activation.swigluBackward(ub, db, dub, N, F, false)));
    int gl = N * GF;
    vs.add(new Variant("gelu fwd: before", () -> oldGelu(u.fb, s.fb, h.fb, gl)));
    vs.add(
        new Variant(
            "gelu fwd: vector on the buffers", () -> Activation.gelu(ub, sb, hb, gl, true)));
    vs.add(new Variant("gelu fwd: scalar path", () -> Activation.gelu(ub, sb, hb, gl, false)));
    vs.add(new Variant("gelu bwd: before", () -> oldGeluBackward(u.fb, s.fb, d.fb, gl)));
    vs.add(
        new Variant(
            "gelu bwd: vector on the buffers",
            () -> Activation.geluBackward(ub, sb, db, gl, true)));
    vs.add(
        new Variant("gelu bwd: scalar path", () -> Activation.geluBackward(ub, sb, db, gl, false)));
    vs.add(new Variant("gelu fwd: vector, no t stored", () -> geluNoT(ub, hb, gl)));
    vs.add(new Variant("gelu bwd: vector, t recomputed", () -> geluNoTBackward(ub, db, gl)));
    for (boolean rms : new boolean[] {true, false}) {
      int c = rms ? 576 : 768;
      String k = rms ? "rmsnorm [1024, 576]" : "layernorm [1024, 768]";
      INDArray flat = Nd4j.rand(DataType.FLOAT, 2 * c), grad = Nd4j.zeros(DataType.FLOAT, 2 * c);
      Param g = new Param(Kernels.view(flat, 0, 1, c), 0, null);
      Param b = rms ? null : new Param(Kernels.view(flat, c, 1, c), c, null);
      FloatBuffer pw = flat.data().asNioFloat(), gw = grad.data().asNioFloat();
      KEEP.add(grad); // gw alone does not keep ND4J from freeing the memory behind it
      OldNorm old = new OldNorm(g, b, rms, 1e-5, c);
      Norm nw = new Norm(g, b, rms, 1e-5, c);
      float[] stats = new float[2 * N];
      vs.add(new Variant(k + " fwd: before", () -> old.forward(u.fb, h.fb, stats, pw, N)));
      vs.add(new Variant(k + " fwd: vector", () -> nw.forward(ub, hb, stats, pw, N, true)));
      vs.add(new Variant(k + " fwd: scalar path", () -> nw.forward(ub, hb, stats, pw, N, false)));
      vs.add(
          new Variant(
              k + " bwd: before", () -> old.backward(d.fb, u.fb, stats, s.fb, true, pw, gw, N)));
      vs.add(
          new Variant(
              k + " bwd: vector", () -> nw.backward(db, ub, stats, sb, true, pw, gw, N, true)));
      vs.add(
          new Variant(
              k + " bwd: scalar path",
              () -> nw.backward(db, ub, stats, sb, true, pw, gw, N, false)));
    }
    Rope rope = new Rope(new ModelConfig.Rope(10000, ModelConfig.Scaling.NONE), 64);
    int[] pos = new int[N];
    for (int i = 0; i < N; i++) pos[i] = i % 256;
    String rk = "rope [1024, 12 x 64] of 960";
    vs.add(
        new Variant(
            rk + ": before = scalar path", () -> rope.apply(ub, 0, 960, N, 12, pos, false, false)));
    vs.add(new Variant(rk + ": vector", () -> rope.apply(ub, 0, 960, N, 12, pos, false, true)));
    vs.add(
        new Variant(
            rk + " inverse: before", () -> rope.apply(ub, 0, 960, N, 12, pos, true, false)));
    vs.add(
        new Variant(rk + " inverse: vector", () -> rope.apply(ub, 0, 960, N, 12, pos, true, true)));
    if (filter.contains("entropy")) {
      int nv = 49152;
      Storage lg = filled(r, (long) N * nv);
      KEEP.add(lg);
      int[] labels = new int[N], rows = new int[N];
      for (int i = 0; i < N; i++) {
        labels[i] = r.nextInt(nv);
        rows[i] = i;
      }
      String ek = "cross-entropy [1024, 49152]";
      vs.add(new Variant(ek + ": before", () -> oldCrossEntropy(lg.fb, N, nv, labels, rows)));
      LmHead head = new LmHead(null, null, 576, nv, null);
      vs.add(new Variant(ek + ": vector max pass only", () -> pass(lg.bytes, N, nv, 0)));
      vs.add(new Variant(ek + ": vector exp pass only", () -> pass(lg.bytes, N, nv, 1)));
      vs.add(new Variant(ek + ": vector scale pass only", () -> pass(lg.bytes, N, nv, 2)));
      vs.add(
          new Variant(
              ek + ": vector", () -> head.crossEntropy(lg.bytes, N, labels, rows, null, true)));
      vs.add(
          new Variant(
              ek + ": scalar path",
              () -> head.crossEntropy(lg.bytes, N, labels, rows, null, false)));
      vs.add(
          new Variant(
              ek + ": row copies in and out only", () -> floor(lg.fb, lg.fb, N, nv, nv / 2, null)));
    }
    if (filter.contains("sum of squares")) {
      // Run the two variants in separate processes: the old one's 256-bit species would pollute
      // the new one's call sites (the reason for the change).
      int len = 16 << 20;
      Storage big = filled(r, len);
      KEEP.add(big);
      String qk = "sum of squares, 16M floats";
      vs.add(
          new Variant(qk + ": before (256-bit floats)", () -> sumOfSquares(big.bytes, len, true)));
      vs.add(
          new Variant(qk + ": preferred species only", () -> sumOfSquares(big.bytes, len, false)));
    }
    vs.add(
        new Variant(
            "swiglu fwd: traffic only (vector loads/stores, g*up)",
            () -> swigluTraffic(ub, hb, N, F)));
    vs.removeIf(v -> !v.name.contains(filter));
    double[][] ms = new double[vs.size()][rounds];
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < vs.size(); i++) {
        // The backward passes scale d in place: refill so values stay in range.
        long t0 = System.nanoTime();
        vs.get(i).run.run();
        ms[i][round] = (System.nanoTime() - t0) / 1e6;
      }
      refill(d.fb, N * GF, r);
      refill(s.fb, N * GF, r); // the norms' backward accumulates into it
    }
    System.out.printf("%d rounds alternated, %d lanes; load %s%n", rounds, S.length(), load());
    for (int i = 0; i < vs.size(); i++) {
      double[] t = ms[i].clone();
      Arrays.sort(t);
      System.out.printf(
          "%-48s median %7.3f ms  (min %.3f, max %.3f)%n",
          vs.get(i).name, t[rounds / 2], t[0], t[rounds - 1]);
    }
  }

  private static Storage filled(Random r, long n) {
    Storage s = new Storage(n);
    refill(s.fb, (int) n, r);
    return s;
  }

  private static void refill(FloatBuffer fb, int n, Random r) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * 2;
    fb.put(0, x, 0, n);
  }

  /** Reads [n, in] and writes two [n, out], row by row: the traffic of the forward pass. */
  private static void floor(FloatBuffer u, FloatBuffer h, int n, int in, int out, FloatBuffer s) {
    Parallel.range(
        n,
        2L * in,
        (from, to) -> {
          float[] row = new float[in];
          for (int i = from; i < to; i++) {
            u.get(i * in, row, 0, in);
            h.put(i * out, row, 0, out);
            if (s != null) s.put(i * out, row, out, out);
          }
        });
  }

  private static final java.nio.ByteOrder O = java.nio.ByteOrder.nativeOrder();

  private static void geluNoT(ByteBuffer x, ByteBuffer out, int len) {
    Parallel.range(
        len,
        2,
        (from, to) -> {
          int l = S.length();
          for (int i = from; i + l <= to; i += l) {
            FloatVector v = FloatVector.fromByteBuffer(S, x, 4 * i, O);
            FloatVector th = ElementwiseVector.geluTanh(v);
            v.mul(0.5f).mul(th.add(1f)).intoByteBuffer(out, 4 * i, O);
          }
        });
  }

  private static void geluNoTBackward(ByteBuffer x, ByteBuffer db, int len) {
    float k0 = Activation.K0, k3 = 3 * Activation.K1;
    Parallel.range(
        len,
        2,
        (from, to) -> {
          int l = S.length();
          for (int i = from; i + l <= to; i += l) {
            FloatVector v = FloatVector.fromByteBuffer(S, x, 4 * i, O);
            FloatVector d = FloatVector.fromByteBuffer(S, db, 4 * i, O);
            FloatVector th = ElementwiseVector.geluTanh(v);
            FloatVector one = FloatVector.broadcast(S, 1f);
            FloatVector a = th.add(1f).mul(0.5f);
            FloatVector b =
                v.mul(0.5f).mul(one.sub(th.mul(th))).mul(k0).mul(v.mul(k3).mul(v).add(1f));
            d.mul(a.add(b)).intoByteBuffer(db, 4 * i, O);
          }
        });
  }

  // The kernels as they were before issue #17's vector kernels.

  private static void oldSwiglu(FloatBuffer u, FloatBuffer s, FloatBuffer h, int n, int f) {
    Parallel.range(
        n,
        10L * f,
        (from, to) -> {
          float[] ur = new float[2 * f], sr = new float[f], hr = new float[f];
          for (int i = from; i < to; i++) {
            u.get(i * 2 * f, ur, 0, 2 * f);
            for (int k = 0; k < f; k++) sr[k] = -Math.abs(ur[k]);
            Simd.exp(sr, 0, f);
            for (int k = 0; k < f; k++) {
              float e = sr[k], sg = ur[k] >= 0 ? 1f / (1f + e) : e / (1f + e);
              sr[k] = sg;
              hr[k] = ur[k] * sg * ur[f + k];
            }
            s.put(i * f, sr, 0, f);
            h.put(i * f, hr, 0, f);
          }
        });
  }

  private static void oldSwigluBackward(
      FloatBuffer u, FloatBuffer s, FloatBuffer dh, FloatBuffer du, int n, int f) {
    Parallel.range(
        n,
        6L * f,
        (from, to) -> {
          float[] ur = new float[2 * f], sr = new float[f], dr = new float[f];
          float[] out = new float[2 * f];
          for (int i = from; i < to; i++) {
            u.get(i * 2 * f, ur, 0, 2 * f);
            s.get(i * f, sr, 0, f);
            dh.get(i * f, dr, 0, f);
            for (int k = 0; k < f; k++) {
              float g = ur[k], up = ur[f + k], sg = sr[k], d = dr[k];
              out[k] = d * up * sg * (1 + g * (1 - sg));
              out[f + k] = d * g * sg;
            }
            du.put(i * 2 * f, out, 0, 2 * f);
          }
        });
  }

  private static void oldGelu(FloatBuffer x, FloatBuffer t, FloatBuffer out, int len) {
    Parallel.range(
        len,
        8,
        (from, to) -> {
          int c = Kernels.CHUNK;
          float[] xs = new float[c], ts = new float[c], os = new float[c];
          for (int at = from; at < to; at += c) {
            int m = Math.min(c, to - at);
            x.get(at, xs, 0, m);
            for (int i = 0; i < m; i++) {
              float th = Activation.geluTanh(xs[i]);
              ts[i] = th;
              os[i] = 0.5f * xs[i] * (1 + th);
            }
            t.put(at, ts, 0, m);
            out.put(at, os, 0, m);
          }
        });
  }

  private static void oldGeluBackward(FloatBuffer x, FloatBuffer t, FloatBuffer d, int len) {
    float k0 = Activation.K0, k1 = Activation.K1;
    Parallel.range(
        len,
        3,
        (from, to) -> {
          int c = Kernels.CHUNK;
          float[] xs = new float[c], ts = new float[c], ds = new float[c];
          for (int at = from; at < to; at += c) {
            int m = Math.min(c, to - at);
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

  private static double oldCrossEntropy(
      FloatBuffer logits, int m, int nV, int[] labels, int[] rows) {
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
            for (int v = 0; v < nV; v++) row[v] -= max;
            Simd.exp(row, 0, nV);
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int v = 0;
            for (; v + 4 <= nV; v += 4) {
              s0 += row[v];
              s1 += row[v + 1];
              s2 += row[v + 2];
              s3 += row[v + 3];
            }
            for (; v < nV; v++) s0 += row[v];
            double sum = (s0 + s1) + (s2 + s3);
            nll[j] = Math.log(sum) + max - target;
            float scale = (float) (1 / sum);
            for (v = 0; v < nV; v++) row[v] *= scale;
            row[label] -= 1;
            logits.put(o, row, 0, nV);
          }
        });
    double loss = 0;
    for (int j = 0; j < m; j++) loss += nll[j];
    return loss;
  }

  private static void pass(ByteBuffer x, int m, int nv, int which) {
    Parallel.range(
        m,
        nv,
        (from, to) -> {
          float[] parts = new float[16];
          for (int j = from; j < to; j++) {
            if (which == 0) ElementwiseVector.max(x, j * nv, nv);
            if (which == 1) ElementwiseVector.expSum(x, j * nv, nv, 0.5f, parts);
            if (which == 2) ElementwiseVector.scale(x, j * nv, nv, 0.999f);
          }
        });
  }

  private static void swigluTraffic(ByteBuffer u, ByteBuffer h, int n, int f) {
    Parallel.range(
        n,
        2L * f,
        (from, to) -> {
          int l = S.length();
          for (int i = from; i < to; i++) {
            for (int k = 0; k + l <= f; k += l) {
              FloatVector g = FloatVector.fromByteBuffer(S, u, 4 * (2 * i * f + k), O);
              FloatVector up = FloatVector.fromByteBuffer(S, u, 4 * (2 * i * f + f + k), O);
              g.mul(up).intoByteBuffer(h, 4 * (i * f + k), O);
            }
          }
        });
  }

  /** The gradient norm's blocks over the cores, as FlatParameters.norm2 runs them. */
  private static double sumOfSquares(ByteBuffer x, int n, boolean old) {
    int block = 1 << 14, blocks = n / block;
    double[] partial = new double[blocks];
    Parallel.range(
        blocks,
        block,
        (from, to) -> {
          for (int b = from; b < to; b++) {
            double[] s = new double[8];
            if (old) oldSumOfSquares8(x, b * block, block, s);
            else OptimizerVector.sumOfSquares(x, b * block, block, s);
            partial[b] = s[0] + s[1];
          }
        });
    double t = 0;
    for (double d : partial) t += d;
    return t;
  }

  private static final jdk.incubator.vector.VectorSpecies<Double> D8 =
      jdk.incubator.vector.DoubleVector.SPECIES_512;

  /** OptimizerVector's sums before: 256-bit float loads widened to 512-bit fp64. */
  private static int oldSumOfSquares8(ByteBuffer x, int off, int n, double[] s) {
    jdk.incubator.vector.DoubleVector acc = jdk.incubator.vector.DoubleVector.zero(D8);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      int at = 4 * (off + i);
      var a = widen8(x, at);
      var b = widen8(x, at + 32);
      var c = widen8(x, at + 64);
      var d = widen8(x, at + 96);
      acc = acc.add(a.mul(a));
      acc = acc.add(b.mul(b));
      acc = acc.add(c.mul(c));
      acc = acc.add(d.mul(d));
    }
    for (int j = 0; j < 8; j++) s[j] += acc.lane(j);
    return i;
  }

  private static jdk.incubator.vector.DoubleVector widen8(ByteBuffer x, int at) {
    return (jdk.incubator.vector.DoubleVector)
        FloatVector.fromByteBuffer(FloatVector.SPECIES_256, x, at, O)
            .convertShape(jdk.incubator.vector.VectorOperators.F2D, D8, 0);
  }

  private static String load() {
    try {
      return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }
}
