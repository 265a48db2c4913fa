package dev.flantune.train.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flantune.model.CausalLm;
import dev.flantune.model.GradientEngine;
import dev.flantune.model.ModelConfig;
import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The model replicas of one executor JVM, per run: built once (the first task of a run on this
 * executor pays for it), then borrowed by one task at a time. A pool rather than one instance
 * because an executor may run several tasks at once, and in local mode the executors share the
 * driver's JVM: a task must never touch the driver's model or gradient buffers, nor another task's.
 */
final class Replicas {
  private static final Map<String, ConcurrentLinkedDeque<Replica>> POOLS =
      new ConcurrentHashMap<>();
  private static final ObjectMapper JSON = new ObjectMapper();

  private Replicas() {}

  /**
   * What an executor needs to build a replica: the model's architecture (its Hugging Face config
   * JSON). The weights arrive by broadcast every step, so executors read no files.
   */
  record Spec(String runId, String modelConfigJson) implements Serializable {
    static Spec of(String runId, CausalLm model) {
      try {
        return new Spec(runId, JSON.writeValueAsString(model.config().json()));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** A model of the run's architecture and its forward/backward engine. */
  record Replica(CausalLm model, GradientEngine engine) {}

  static Replica borrow(Spec spec) {
    Replica r = POOLS.computeIfAbsent(spec.runId(), k -> new ConcurrentLinkedDeque<>()).poll();
    return r != null ? r : build(spec);
  }

  static void giveBack(Spec spec, Replica r) {
    ConcurrentLinkedDeque<Replica> pool = POOLS.get(spec.runId());
    if (pool != null) pool.push(r); // released meanwhile: let it go
  }

  /**
   * Drops a run's replicas. The driver calls it when the run ends, which frees them in local mode;
   * on a cluster the executors end with the application.
   */
  static void release(String runId) {
    POOLS.remove(runId);
  }

  /** Replicas currently pooled for a run (tests). */
  static int pooled(String runId) {
    ConcurrentLinkedDeque<Replica> pool = POOLS.get(runId);
    return pool == null ? 0 : pool.size();
  }

  private static Replica build(Spec spec) {
    ModelConfig config;
    try {
      config =
          dev.flantune.model.family.Family.read(
              (com.fasterxml.jackson.databind.node.ObjectNode)
                  JSON.readTree(spec.modelConfigJson()),
              java.nio.file.Path.of("config.json (from the driver)"));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable model config from the driver", e);
    }
    CausalLm model = CausalLm.random(config, 0); // weights overwritten by every step's broadcast
    return new Replica(model, GradientEngine.forModel(model));
  }
}
