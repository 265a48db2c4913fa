package dev.flantune.model.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flantune.model.KeyRanges;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scalar fallback (a JVM without the Vector API module) gives the vector path's results bit for
 * bit: a child JVM without {@code --add-modules jdk.incubator.vector} and with
 * -Dflantune.simd=scalar runs the fused attention (forward and backward), the exp kernels and the
 * elementwise passes on the same inputs, and every float it writes must equal this JVM's; so does a
 * child on 8-lane vectors.
 */
class ScalarPathTest {
  @Test
  void scalarJvmMatchesTheVectorPathBitForBit(@TempDir Path dir) throws Exception {
    assertTrue(Simd.VECTOR, "this JVM runs the vector path");
    compare(dir, "scalar", List.of("-Dflantune.simd=scalar"));
  }

  /**
   * The same with 8-lane vectors (AVX2's width; -XX:MaxVectorSize=32 makes it the preferred
   * species), so the kernels' 8-lane branches are checked on an AVX-512 machine too.
   */
  @Test
  void eightLaneJvmMatchesBitForBit(@TempDir Path dir) throws Exception {
    compare(
        dir, "vector8", List.of("--add-modules", "jdk.incubator.vector", "-XX:MaxVectorSize=32"));
  }

  /** Runs {@link #main} in a child JVM with {@code jvmArgs}; its results must equal this JVM's. */
  private static void compare(Path dir, String mode, List<String> jvmArgs) throws Exception {
    Path out = dir.resolve(mode + ".bin");
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmArgs);
    cmd.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            ScalarPathTest.class.getName(),
            out.toString(),
            mode));
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    assertTrue(p.waitFor(5, TimeUnit.MINUTES), "child JVM timed out");
    assertEquals(0, p.exitValue(), Files.readString(dir.resolve("child.log")));

    List<float[]> want = results();
    try (InputStream in = Files.newInputStream(out);
        DataInputStream data = new DataInputStream(in)) {
      assertEquals(want.size(), data.readInt(), "result count");
      for (int i = 0; i < want.size(); i++) {
        float[] got = new float[data.readInt()];
        for (int j = 0; j < got.length; j++) got[j] = data.readFloat();
        assertArrayEquals(want.get(i), got, "result " + i + " (this JVM vs the " + mode + " one)");
      }
    }
  }

  /**
   * The child: computes the results on the path args[1] names (scalar, or vector8: 8-lane vectors)
   * and writes them to args[0].
   */
  public static void main(String[] args) throws IOException {
    boolean scalar = args[1].equals("scalar");
    if (scalar ? Simd.VECTOR : !Simd.VECTOR || Simd.LANES != 8)
      throw new IllegalStateException("the child must run the " + args[1] + " path");
    List<float[]> res = results();
    try (OutputStream os = Files.newOutputStream(Path.of(args[0]));
        DataOutputStream data = new DataOutputStream(os)) {
      data.writeInt(res.size());
      for (float[] r : res) {
        data.writeInt(r.length);
        for (float v : r) data.writeFloat(v);
      }
    }
  }

  /**
   * Fused attention outputs (y, logsumexps, d(q|k|v)) on causal, packed and shared-context rows
   * with grouped heads and lengths off the tile grid, then exp, its shifted sum and the tile
   * product on arrays whose lengths are not whole vectors, then the elementwise kernels.
   */
  private static List<float[]> results() {
    Random r = new Random(23);
    List<float[]> res = new ArrayList<>();
    int[][] shapes = {{2, 70, 4, 2, 64}, {1, 130, 3, 1, 24}, {1, 200, 2, 2, 32}};
    for (int[] sh : shapes) {
      for (String layout : new String[] {"causal", "packed", "shared"}) {
        FusedAttention.Dims dm = new FusedAttention.Dims(sh[0], sh[1], sh[2], sh[3], sh[4]);
        KeyRanges keys = FusedAttentionTest.keys(r, dm, layout);
        int n = dm.rows() * dm.t(), a = dm.nH() * dm.d(), w = (dm.nH() + 2 * dm.nKv()) * dm.d();
        float scale = (float) (1 / Math.sqrt(dm.d()));
        float[] heads = gaussian(r, n * w, 1.5f), dy = gaussian(r, n * a, 1f);
        FloatBuffer y = FloatBuffer.allocate(n * a), dheads = FloatBuffer.allocate(n * w);
        float[] lse = new float[dm.rows() * dm.nH() * dm.t()];
        FusedAttention.forward(FloatBuffer.wrap(heads), y, lse, keys, dm, scale);
        FusedAttention.backward(
            FloatBuffer.wrap(heads), y, lse, FloatBuffer.wrap(dy), dheads, keys, dm, scale);
        res.add(y.array());
        res.add(lse);
        res.add(dheads.array());
      }
    }
    float[] x = gaussian(r, 1003, 30f);
    float[] e = x.clone();
    Simd.exp(e, 0, e.length);
    res.add(e);
    float[] shifted = x.clone();
    res.add(new float[] {Simd.expShifted(shifted, 3, 997, 2.5f), Simd.sum(x, 1, 1001)});
    res.add(shifted);
    float[] c = new float[12 * 32];
    Simd.mm(x, 0, 37, 1, x, 5, 32, c, 0, 32, 12, 32, 29, false);
    res.add(c);
    elementwise(r, res);
    return res;
  }

  /**
   * The MLP activations, the norms, RoPE and the cross-entropy, forward and backward, on widths off
   * the vector grid.
   */
  private static void elementwise(Random r, List<float[]> res) {
    int n = 3, f = 37;
    float[] u = ActivationTest.values(r, 2 * n * f, 4f),
        dh = ActivationTest.values(r, 2 * n * f, 1f);
    java.nio.ByteBuffer h = ActivationTest.buffer(new float[n * f]);
    java.nio.ByteBuffer du = ActivationTest.buffer(new float[2 * n * f]);
    Activation.swiglu(ActivationTest.buffer(u), h, n, f);
    Activation.swigluBackward(ActivationTest.buffer(u), ActivationTest.buffer(dh), du, n, f);
    res.add(ActivationTest.floats(h, n * f));
    res.add(ActivationTest.floats(du, 2 * n * f));
    int len = 2 * n * f;
    java.nio.ByteBuffer t = ActivationTest.buffer(new float[len]);
    java.nio.ByteBuffer y = ActivationTest.buffer(new float[len]), d = ActivationTest.buffer(dh);
    Activation.gelu(ActivationTest.buffer(u), t, y, len);
    Activation.geluBackward(ActivationTest.buffer(u), t, d, len);
    res.add(ActivationTest.floats(y, len));
    res.add(ActivationTest.floats(d, len));
    for (boolean rms : new boolean[] {true, false}) {
      int c = 581, rows = 37;
      NormTest.Setup norm = NormTest.setup(r, rms, c);
      float[] x = NormTest.gaussian(r, rows * c, 2f, 0.5f),
          dy = NormTest.gaussian(r, rows * c, 1f, 0f);
      res.addAll(
          NormTest.run(norm, x, dy, NormTest.gaussian(r, rows * c, 1f, 0f), rows, Norm.VECTOR));
    }
    for (int nv : new int[] {300, 1001}) {
      float[] logits = NormTest.gaussian(r, 4 * nv, 3f, 0f);
      int[] labels = {3, 0, nv - 1, 17};
      float[] w = {0.5f, 1f, 2f, 0.25f};
      for (float[][] out :
          new float[][][] {
            CrossEntropyTest.run(logits, 4, nv, labels, null, Simd.VECTOR),
            CrossEntropyTest.run(logits, 4, nv, labels, w, Simd.VECTOR)
          }) {
        res.add(out[0]);
        res.add(out[1]);
      }
    }
    int[] pos = {5, 0, 77, 1023, 4096};
    for (int hd : new int[] {34, 64}) {
      float[] q = NormTest.gaussian(r, 5 * (3 * hd + 2), 1f, 0f);
      res.add(RopeTest.apply(RopeTest.rope(hd), q, 1, 3 * hd + 2, 5, 3, pos, false, Simd.VECTOR));
      res.add(RopeTest.apply(RopeTest.rope(hd), q, 1, 3 * hd + 2, 5, 3, pos, true, Simd.VECTOR));
    }
  }

  private static float[] gaussian(Random r, int n, float sd) {
    float[] x = new float[n];
    for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian() * sd;
    return x;
  }
}
