package dev.flantune.model.cpu;

import static dev.flantune.model.cpu.ActivationTest.assertSameBits;
import static dev.flantune.model.cpu.ActivationTest.buffer;
import static dev.flantune.model.cpu.ActivationTest.floats;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * RMSNorm and LayerNorm, forward and backward: the Vector API path, the scalar path and the
 * decoder's row function give the same bits (widths off the vector grid, row counts off the
 * gradient blocks), and all follow plain double-precision formulas.
 */
class NormTest {
  /** A norm of width c with random gain (and bias), its parameter and gradient buffers. */
  record Setup(Norm norm, INDArray params, INDArray grads) {
    FloatBuffer pw() {
      return params.data().asNioFloat();
    }

    FloatBuffer gw() {
      return grads.data().asNioFloat();
    }
  }

  static Setup setup(Random r, boolean rms, int c) {
    float[] p = new float[2 * c];
    for (int i = 0; i < p.length; i++) p[i] = 1 + (float) r.nextGaussian() * 0.3f;
    INDArray params = Nd4j.createFromArray(p), grads = Nd4j.zeros(DataType.FLOAT, 2 * c);
    Param g = new Param(Kernels.view(params, 0, 1, c), 0, null);
    Param b = rms ? null : new Param(Kernels.view(params, c, 1, c), c, null);
    return new Setup(new Norm(g, b, rms, 1e-5, c), params, grads);
  }

  /** y, stats, dx (accumulated onto dx0), dg|db of one forward and backward pass. */
  static List<float[]> run(Setup s, float[] x, float[] dy, float[] dx0, int n, boolean vector) {
    int c = s.norm().c;
    ByteBuffer y = buffer(new float[n * c]), dx = buffer(dx0);
    float[] stats = new float[2 * n];
    s.grads().assign(0);
    s.norm().forward(buffer(x), y, stats, s.pw(), n, vector);
    s.norm().backward(buffer(dy), buffer(x), stats, dx, true, s.pw(), s.gw(), n, vector);
    ByteBuffer fresh = buffer(new float[n * c]);
    s.norm().backward(buffer(dy), buffer(x), stats, fresh, false, s.pw(), null, n, vector);
    List<float[]> out = new ArrayList<>();
    out.add(floats(y, n * c));
    out.add(stats);
    out.add(floats(dx, n * c));
    out.add(floats(fresh, n * c));
    out.add(s.grads().toFloatVector());
    return out;
  }

  static float[] gaussian(Random r, int n, float sd, float mean) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = mean + (float) r.nextGaussian() * sd;
    return x;
  }

  @Test
  void vectorScalarAndRowPathsGiveTheSameBits() {
    Random r = new Random(7);
    for (boolean rms : new boolean[] {true, false}) {
      for (int c : new int[] {1, 5, 8, 16, 17, 40, 64, 100, 581}) {
        int n = 1 + r.nextInt(70);
        Setup s = setup(r, rms, c);
        float[] x = gaussian(r, n * c, 2f, 0.5f), dy = gaussian(r, n * c, 1f, 0f);
        float[] dx0 = gaussian(r, n * c, 1f, 0f);
        List<float[]> v = run(s, x, dy, dx0, n, true), sc = run(s, x, dy, dx0, n, false);
        String at = (rms ? "rms" : "layer") + " c=" + c + " n=" + n + ": ";
        String[] names = {"y", "stats", "dx accumulated", "dx", "dg|db"};
        for (int i = 0; i < names.length; i++) assertSameBits(sc.get(i), v.get(i), at + names[i]);
        float[] gv = s.norm().g.read(s.pw()), bv = rms ? null : s.norm().b.read(s.pw());
        float[] row = new float[c], stats = new float[2];
        for (int i = 0; i < n; i++) {
          System.arraycopy(x, i * c, row, 0, c);
          s.norm().row(row, row, gv, bv, stats, 0);
          float[] want = java.util.Arrays.copyOfRange(v.get(0), i * c, (i + 1) * c);
          assertSameBits(want, row, at + "decoder row " + i);
        }
      }
    }
  }

  @Test
  void followsTheDoubleFormulas() {
    Random r = new Random(8);
    for (boolean rms : new boolean[] {true, false}) {
      int c = 97, n = 40;
      Setup s = setup(r, rms, c);
      float[] x = gaussian(r, n * c, 2f, 1f), dy = gaussian(r, n * c, 1f, 0f);
      List<float[]> got = run(s, x, dy, new float[n * c], n, Norm.VECTOR);
      float[] p = s.params().toFloatVector();
      double[] dg = new double[c], db = new double[c];
      for (int i = 0; i < n; i++) {
        double mean = 0, sq = 0;
        if (!rms) {
          for (int k = 0; k < c; k++) mean += x[i * c + k];
          mean /= c;
        }
        for (int k = 0; k < c; k++) sq += (x[i * c + k] - mean) * (x[i * c + k] - mean);
        double rstd = 1 / Math.sqrt(sq / c + 1e-5), m1 = 0, m2 = 0;
        double[] xh = new double[c], dxh = new double[c];
        for (int k = 0; k < c; k++) {
          xh[k] = (x[i * c + k] - mean) * rstd;
          double y = xh[k] * p[k] + (rms ? 0 : p[c + k]);
          close(y, got.get(0)[i * c + k], "y");
          dxh[k] = dy[i * c + k] * p[k];
          m1 += dxh[k] / c;
          m2 += dxh[k] * xh[k] / c;
          dg[k] += dy[i * c + k] * xh[k];
          db[k] += dy[i * c + k];
        }
        for (int k = 0; k < c; k++) {
          double dx = rstd * (dxh[k] - (rms ? 0 : m1) - xh[k] * m2);
          close(dx, got.get(2)[i * c + k], "dx");
        }
      }
      for (int k = 0; k < c; k++) {
        close(dg[k], got.get(4)[k], "dg");
        close(rms ? 0 : db[k], got.get(4)[c + k], "db");
      }
    }
  }

  private static void close(double want, float got, String what) {
    assertTrue(
        Math.abs(want - got) <= 1e-5 * (1 + Math.abs(want)), what + ": " + want + " vs " + got);
  }
}
