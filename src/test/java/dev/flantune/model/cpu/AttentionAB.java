package dev.flantune.model.cpu;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Not a test: compares the fused attention of two builds in one JVM, one call pair of each in turn
 * (the order flipped every round), so that this machine's drift (±12% within minutes) falls on both
 * alike. Each build's classes are loaded by a loader of their own, with {@link AttentionCalls} from
 * this build's test classes linked against them. Prints, per shape, both medians and the median of
 * the per-round ratios B/A. For example, against the previous commit:
 *
 * <pre>
 * git worktree add /tmp/base HEAD~1 &amp;&amp; (cd /tmp/base &amp;&amp; mvn -o -q compile)
 * mvn -o -q test-compile
 * java --add-modules jdk.incubator.vector -cp 'target/test-classes:target/lib/*' \
 *     dev.flantune.model.cpu.AttentionAB /tmp/base/target/classes target/classes 30 \
 *     4,256,9,3 1,1024,9,3 4,256,8,8 1,1024,8,8
 * </pre>
 *
 * (shapes as rows,T,H,KV with head size 64; {@code -XX:ActiveProcessorCount=1} for one core).
 */
public final class AttentionAB {
  private AttentionAB() {}

  /** Loads dev.flantune classes from its own path first, everything else from its parent. */
  private static final class BuildLoader extends URLClassLoader {
    BuildLoader(URL[] urls, ClassLoader parent) {
      super(urls, parent);
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null && name.startsWith("dev.flantune.")) {
          try {
            c = findClass(name);
          } catch (ClassNotFoundException e) {
            c = null; // not in this build: the parent's
          }
        }
        if (c == null) return super.loadClass(name, resolve);
        if (resolve) resolveClass(c);
        return c;
      }
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: AttentionAB CLASSES_A CLASSES_B ROUNDS ROWS,T,H,KV...");
      System.exit(2);
    }
    URL calls = AttentionCalls.class.getProtectionDomain().getCodeSource().getLocation();
    Method[] run = new Method[2];
    for (int v = 0; v < 2; v++) {
      URL[] path = {Path.of(args[v]).toUri().toURL(), calls};
      ClassLoader l = new BuildLoader(path, AttentionAB.class.getClassLoader());
      run[v] =
          l.loadClass(AttentionCalls.class.getName())
              .getMethod("run", int.class, int.class, int.class, int.class);
    }
    int rounds = Integer.parseInt(args[2]);
    System.out.printf(
        "%-14s %9s %9s %9s   %9s %9s %9s%n",
        "shape", "fwd A ms", "fwd B ms", "B/A", "bwd A ms", "bwd B ms", "B/A");
    int[][] shapes = new int[args.length - 3][];
    for (int s = 3; s < args.length; s++)
      shapes[s - 3] = Arrays.stream(args[s].split(",")).mapToInt(Integer::parseInt).toArray();
    // warm-up: every shape of both builds, so the JIT has compiled the kernels before any timing
    for (int w = 0; w < 10; w++) for (int[] sh : shapes) for (Method m : run) call(m, sh);
    for (int s = 3; s < args.length; s++) {
      int[] sh = shapes[s - 3];
      double[][] f = new double[2][rounds], b = new double[2][rounds];
      for (int i = 0; i < rounds; i++) {
        for (int k = 0; k < 2; k++) {
          int v = i % 2 == 0 ? k : 1 - k;
          long[] ns = call(run[v], sh);
          f[v][i] = ns[0] / 1e6;
          b[v][i] = ns[1] / 1e6;
        }
      }
      double[] rf = new double[rounds], rb = new double[rounds];
      for (int i = 0; i < rounds; i++) {
        rf[i] = f[1][i] / f[0][i];
        rb[i] = b[1][i] / b[0][i];
      }
      System.out.printf(
          "%-14s %9.2f %9.2f %9.3f   %9.2f %9.2f %9.3f%n",
          args[s], median(f[0]), median(f[1]), median(rf), median(b[0]), median(b[1]), median(rb));
    }
  }

  private static long[] call(Method run, int[] sh) throws Exception {
    return (long[]) run.invoke(null, sh[0], sh[1], sh[2], sh[3]);
  }

  private static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
