package dev.flantune.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.flantune.checkpoint.ArraySource;
import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.HfCheckpoint;
import dev.flantune.checkpoint.Safetensors;
import dev.flantune.model.CausalLm;
import dev.flantune.model.lora.AdapterFiles;
import dev.flantune.util.FlanTuneException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A run directory: config.resolved.yaml, provenance.json, metrics.jsonl, checkpoints/step-N/,
 * final/ and eval/. Every checkpoint is written into a temporary directory and renamed into place,
 * so a kill at any moment leaves the previous checkpoints intact and loadable.
 */
public final class RunDir {
  public static final String CHECKPOINTS = "checkpoints";
  public static final String FINAL = "final";
  public static final String METRICS = "metrics.jsonl";
  public static final String STATE = "trainer_state.json";
  public static final String OPTIMIZER = "optimizer.safetensors";
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final Path root;

  public RunDir(Path root) {
    this.root = root;
  }

  public Path root() {
    return root;
  }

  public Path resolve(String name) {
    return root.resolve(name);
  }

  /** Whether the directory exists and holds anything. */
  public boolean isNonEmpty() throws IOException {
    if (!Files.isDirectory(root)) return false;
    try (Stream<Path> s = Files.list(root)) {
      return s.findAny().isPresent();
    }
  }

  /** What a checkpoint records besides the model and the optimizer moments. */
  public record State(
      long step,
      long dataPosition,
      long adamStep,
      long seed,
      long tokensSeen,
      String configSha256) {}

  /** Writes checkpoint step-N atomically, then prunes to the newest {@code keep}. */
  public Path saveCheckpoint(
      CausalLm model, AdamW adam, State state, Path tokenizerSource, int keep) throws IOException {
    Path dir = root.resolve(CHECKPOINTS);
    Files.createDirectories(dir);
    Path target = dir.resolve(String.format("step-%08d", state.step()));
    writeAtomically(
        target,
        tmp -> {
          saveModel(model, tmp, DType.F32, tokenizerSource);
          Map<String, ArraySource> moments = new LinkedHashMap<>();
          adam.firstMoments().forEach((k, v) -> moments.put("m." + k, new ArraySource(v)));
          adam.secondMoments().forEach((k, v) -> moments.put("v." + k, new ArraySource(v)));
          Safetensors.write(
              tmp.resolve(OPTIMIZER),
              moments,
              DType.F32,
              Map.of("adam_step", Long.toString(adam.step())));
          JSON.writeValue(
              tmp.resolve(STATE).toFile(),
              state); // written last: its presence marks a complete checkpoint
        });
    List<Path> all = checkpoints();
    for (int i = 0; i < all.size() - keep; i++) deleteTree(all.get(i));
    return target;
  }

  /** Writes final/ atomically (a loadable Hugging Face checkpoint). */
  public Path saveFinal(CausalLm model, DType dtype, Path tokenizerSource) throws IOException {
    Path target = root.resolve(FINAL);
    writeAtomically(target, tmp -> saveModel(model, tmp, dtype, tokenizerSource));
    return target;
  }

  /** Fills a directory; may throw, leaving the directory to be discarded. */
  @FunctionalInterface
  public interface DirectoryWriter {
    void writeInto(Path dir) throws IOException;
  }

  /**
   * Writes directory {@code target} through a temporary sibling that is renamed into place, so a
   * kill at any moment leaves the previous {@code target} (or none) or the complete new one, never
   * a half-written one. An existing {@code target} is replaced.
   */
  public static void writeAtomically(Path target, DirectoryWriter writer) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    String suffix = target.getFileName() + "-" + ProcessHandle.current().pid();
    Path tmp = parent.resolve(".tmp-" + suffix), old = parent.resolve(".old-" + suffix);
    deleteTree(tmp);
    try {
      writer.writeInto(Files.createDirectories(tmp));
    } catch (IOException | RuntimeException e) {
      deleteTree(tmp);
      throw e;
    }
    if (Files.exists(target)) Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
    deleteTree(old);
  }

  /**
   * What a checkpoint or final/ holds of the model: the whole model as a Hugging Face checkpoint,
   * or for a LoRA run only the adapter (PEFT's layout, always F32: it is small) and the tokenizer.
   */
  private static void saveModel(CausalLm model, Path dir, DType dtype, Path tokenizerSource)
      throws IOException {
    if (model.adapter() == null) {
      model.save(dir, dtype, tokenizerSource);
      return;
    }
    AdapterFiles.save(model.adapter(), dir, model.config());
    if (tokenizerSource != null) HfCheckpoint.copyTokenizer(tokenizerSource, dir);
  }

  /** Complete checkpoints, oldest first. */
  public List<Path> checkpoints() throws IOException {
    Path dir = root.resolve(CHECKPOINTS);
    if (!Files.isDirectory(dir)) return List.of();
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().startsWith("step-"))
          .filter(p -> Files.isRegularFile(p.resolve(STATE)))
          .sorted(Comparator.comparing(p -> p.getFileName().toString()))
          .toList();
    }
  }

  public Optional<Path> latestCheckpoint() throws IOException {
    List<Path> all = checkpoints();
    return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
  }

  public static State readState(Path checkpoint) {
    try {
      return JSON.readValue(checkpoint.resolve(STATE).toFile(), State.class);
    } catch (IOException e) {
      throw FlanTuneException.badInput(
          checkpoint.resolve(STATE) + ": unreadable (" + e.getMessage() + ")");
    }
  }

  /**
   * Restores the optimizer moments saved beside a checkpoint's model, each streamed from the file
   * into its buffer (no host copy of the state), after checking its shape.
   */
  public static void restoreOptimizer(Path checkpoint, AdamW adam, long adamStep) {
    Path file = checkpoint.resolve(OPTIMIZER);
    Safetensors.Header header = Safetensors.readHeader(file);
    for (String kind : List.of("m.", "v.")) {
      Map<String, INDArray> moments =
          kind.equals("m.") ? adam.firstMoments() : adam.secondMoments();
      for (Map.Entry<String, INDArray> e : moments.entrySet()) {
        Safetensors.Entry stored = header.entries().get(kind + e.getKey());
        if (stored == null) {
          throw FlanTuneException.badInput(
              file + ": no optimizer state for '" + e.getKey() + "'; the checkpoint is incomplete");
        }
        INDArray view = e.getValue();
        if (!java.util.Arrays.equals(stored.shape(), view.shape())) {
          throw FlanTuneException.badInput(
              file
                  + ": optimizer state '"
                  + stored.name()
                  + "' has shape "
                  + java.util.Arrays.toString(stored.shape())
                  + " but the model's parameter is "
                  + java.util.Arrays.toString(view.shape())
                  + "; resume with the model the run was started with");
        }
        if (Nd4j.getEnvironment().isCPU()) {
          Safetensors.readFloatsInto(
              file,
              header.dataStart(),
              stored,
              view.data().asNioFloat(),
              Math.toIntExact(view.offset()));
        } else {
          float[] host = Safetensors.readTensor(file, header.dataStart(), stored).data();
          view.assign(Nd4j.createFromArray(host).reshape(view.shape()));
        }
      }
    }
    adam.restoreStep(adamStep);
  }

  /** Drops metrics lines past {@code step} (a resumed run rewrites them). */
  public void truncateMetrics(long step) throws IOException {
    Path f = root.resolve(METRICS);
    if (!Files.exists(f)) return;
    List<String> keep = new ArrayList<>();
    for (String line : Files.readAllLines(f)) {
      if (line.isBlank()) continue;
      long s = JSON.readTree(line).path("step").asLong(Long.MAX_VALUE);
      if (s <= step) keep.add(line);
    }
    Files.write(f, keep);
  }

  public static void writeJson(Path file, Object value) throws IOException {
    JSON.writeValue(file.toFile(), value);
  }

  /** Deletes a file or a directory tree (nothing if absent). */
  public static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) return;
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
    }
  }
}
