package dev.flantune.model;

import dev.flantune.util.FlanTuneException;
import java.util.Locale;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Which implementation runs a model: {@link #CPU}, the hand-written forward/backward (the default
 * on the CPU backend: faster and lighter), or {@link #GRAPH}, SameDiff's automatic differentiation
 * of the same description (the default elsewhere, i.e. CUDA, and the second implementation the
 * first is checked against). Chosen once per process, by the CLI from {@value #ENV}; a model keeps
 * the engine it was created with.
 */
public enum Engine {
  CPU,
  GRAPH;

  /** Environment variable naming the engine: cpu (alias direct) | graph. */
  public static final String ENV = "FLAN_TUNE_ENGINE";

  private static volatile Engine chosen;

  /**
   * Chooses the engine for models created from now on; null or blank means the backend's default,
   * resolved when the first model needs it (so commands that load no model never start ND4J).
   */
  public static void choose(String value) {
    if (value == null || value.isBlank()) {
      chosen = null;
      return;
    }
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "cpu", "direct" -> chosen = CPU;
      case "graph" -> chosen = GRAPH;
      default ->
          throw FlanTuneException.badUsage(
              ENV + " must be 'cpu' or 'graph' (got '" + value + "'); unset it for the default");
    }
  }

  /** The engine chosen for this process (the backend's default until {@link #choose} is called). */
  public static Engine chosen() {
    Engine e = chosen;
    if (e == null) chosen = e = Nd4j.getEnvironment().isCPU() ? CPU : GRAPH;
    return e;
  }
}
