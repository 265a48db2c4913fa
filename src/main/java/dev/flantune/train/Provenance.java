package dev.flantune.train;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What produced a run: code version, platform, backend, seed, and fingerprints of model and data.
 */
public final class Provenance {
  private Provenance() {}

  public static ObjectNode describe(
      long seed, Path baseModel, String dataFingerprint, String configSha256) {
    ObjectNode p = RunDir.JSON.createObjectNode();
    p.put(
        "flan_tune_version",
        String.valueOf(Provenance.class.getPackage().getImplementationVersion()));
    p.put("git_commit", gitCommit());
    p.put(
        "java",
        System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")");
    p.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    p.put("arch", System.getProperty("os.arch"));
    p.put("nd4j_version", "1.0.0-M2.1");
    p.put("nd4j_backend", Nd4j.getBackend().getClass().getSimpleName());
    p.put("nd4j_native", System.getProperty("org.bytedeco.javacpp.platform.extension", ""));
    p.put("cpus", Runtime.getRuntime().availableProcessors());
    p.put("seed", seed);
    p.put("config_sha256", configSha256);
    p.put("base_model", baseModel == null ? null : baseModel.toString());
    p.put("base_model_sha256", baseModel == null ? null : sha256Tree(baseModel));
    p.put("data_sha256", dataFingerprint);
    p.put("created", java.time.Instant.now().toString());
    return p;
  }

  /** The git commit of the working directory's repository, or "unknown". */
  static String gitCommit() {
    try {
      // The repository flan-tune was built from, not the user's working directory.
      java.io.File home =
          new java.io.File(
                  Provenance.class.getProtectionDomain().getCodeSource().getLocation().toURI())
              .getParentFile();
      Process proc =
          new ProcessBuilder("git", "-C", home.getPath(), "rev-parse", "HEAD")
              .redirectErrorStream(true)
              .start();
      String out = new String(proc.getInputStream().readAllBytes()).trim();
      boolean ok = proc.waitFor(5, TimeUnit.SECONDS) && proc.exitValue() == 0;
      if (!ok) return "unknown";
      Process dirty =
          new ProcessBuilder(
                  "git", "-C", home.getPath(), "status", "--porcelain", "--untracked-files=no")
              .start();
      boolean clean = new String(dirty.getInputStream().readAllBytes()).isBlank();
      dirty.waitFor(5, TimeUnit.SECONDS);
      return clean ? out : out + "-dirty";
    } catch (IOException
        | InterruptedException
        | java.net.URISyntaxException
        | RuntimeException e) {
      return "unknown";
    }
  }

  /**
   * SHA-256 over the regular files of a directory (sorted relative names and contents), or of one
   * file.
   */
  public static String sha256Tree(Path root) {
    try {
      MessageDigest all = MessageDigest.getInstance("SHA-256");
      List<Path> files;
      if (Files.isRegularFile(root)) {
        files = List.of(root);
      } else {
        try (Stream<Path> s = Files.walk(root)) {
          files = s.filter(Files::isRegularFile).sorted().toList();
        }
      }
      byte[] buf = new byte[1 << 16];
      for (Path f : files) {
        all.update(root.relativize(f).toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        try (InputStream in = new DigestInputStream(Files.newInputStream(f), all)) {
          while (in.read(buf) >= 0) {
            // digesting
          }
        }
      }
      return HexFormat.of().formatHex(all.digest());
    } catch (IOException | java.security.NoSuchAlgorithmException e) {
      return "unavailable: " + e.getMessage();
    }
  }

  public static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256")
                  .digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
