package dev.flantune.train;

import static org.junit.jupiter.api.Assertions.*;

import dev.flantune.model.CausalLm;
import dev.flantune.util.FlanTuneException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints stream the model and the optimizer moments to disk and back; the restored state is
 * bit-identical, and state that does not fit the model is refused with the file named.
 */
class RunDirTest {
  static final AdamW.Settings ADAM = new AdamW.Settings(0.9, 0.999, 1e-8, 0.1);

  @Test
  void momentsRoundTripExactlyAndAMismatchedModelIsRefused(@TempDir Path dir) throws Exception {
    dev.flantune.model.ModelConfig c =
        dev.flantune.model.family.Gpt2Family.of(97, 16, 32, 2, 2, 96);
    CausalLm model = CausalLm.random(c, 1);
    AdamW adam = new AdamW(ADAM, model.parameters());
    var grads = model.parameters().zerosLike();
    SplittableRandom r = new SplittableRandom(2);
    for (int step = 0; step < 2; step++) {
      for (long i = 0; i < grads.flat().length(); i++)
        grads.flat().putScalar(i, (float) r.nextGaussian());
      adam.update(grads, 1e-3);
    }
    RunDir run = new RunDir(dir);
    Path ckpt = run.saveCheckpoint(model, adam, new RunDir.State(2, 8, 2, 0, 100, "x"), null, 1);

    CausalLm loaded = CausalLm.load(ckpt);
    assertArrayEquals(
        model.parameters().flat().dup().data().asFloat(),
        loaded.parameters().flat().dup().data().asFloat(),
        0f);
    AdamW restored = new AdamW(ADAM, loaded.parameters());
    RunDir.restoreOptimizer(ckpt, restored, 2);
    assertEquals(2, restored.step());
    for (String name : model.parameterNames()) {
      assertArrayEquals(
          adam.firstMoments().get(name).dup().data().asFloat(),
          restored.firstMoments().get(name).dup().data().asFloat(),
          0f,
          name);
      assertArrayEquals(
          adam.secondMoments().get(name).dup().data().asFloat(),
          restored.secondMoments().get(name).dup().data().asFloat(),
          0f,
          name);
    }
    assertTrue(restored.secondMoments().get("wte.weight").getFloat(0) > 0, "moments were set");

    CausalLm wider =
        CausalLm.random(dev.flantune.model.family.Gpt2Family.of(97, 16, 48, 2, 2, 96), 1);
    FlanTuneException e =
        assertThrows(
            FlanTuneException.class,
            () -> RunDir.restoreOptimizer(ckpt, new AdamW(ADAM, wider.parameters()), 2));
    assertTrue(e.getMessage().contains(RunDir.OPTIMIZER), e.getMessage());
    assertTrue(e.getMessage().contains("has shape [97, 32]"), e.getMessage());
  }

  @Test
  void aDirectoryIsReplacedWholeOrNotAtAll(@TempDir Path dir) throws Exception {
    Path target = dir.resolve("final");
    RunDir.writeAtomically(target, tmp -> java.nio.file.Files.writeString(tmp.resolve("a"), "1"));
    assertEquals("1", java.nio.file.Files.readString(target.resolve("a")));
    // A writer that fails halfway leaves the previous directory as it was.
    assertThrows(
        java.io.IOException.class,
        () ->
            RunDir.writeAtomically(
                target,
                tmp -> {
                  java.nio.file.Files.writeString(tmp.resolve("a"), "2");
                  throw new java.io.IOException("disk full");
                }));
    assertEquals("1", java.nio.file.Files.readString(target.resolve("a")));
    // A complete write replaces it, and nothing of the old one remains.
    RunDir.writeAtomically(target, tmp -> java.nio.file.Files.writeString(tmp.resolve("b"), "3"));
    assertFalse(java.nio.file.Files.exists(target.resolve("a")));
    assertEquals("3", java.nio.file.Files.readString(target.resolve("b")));
    try (var left = java.nio.file.Files.list(dir)) {
      assertEquals(
          java.util.List.of("final"),
          left.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".tmp-")).toList(),
          "no .old- directory left behind");
    }
  }
}
