package dev.flantune.selfinstruct;

import java.util.List;

/**
 * One task of the instruction pool, seed or generated, in Self-Instruct's shape: an instruction,
 * whether it is classification (finite labels), and its instances.
 */
public record SeedTask(String instruction, boolean isClassification, List<Instance> instances) {
  public SeedTask {
    instances = List.copyOf(instances);
  }

  /** One input/output pair; {@code input} is empty when the instruction says everything. */
  public record Instance(String input, String output) {}
}
