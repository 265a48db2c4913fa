package dev.flantune.model;

import dev.flantune.checkpoint.ArraySource;
import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.HfCheckpoint;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
import dev.flantune.model.cpu.CpuEngine;
import dev.flantune.model.family.Family;
import dev.flantune.model.lora.LoraAdapter;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A causal language model of any supported family: its {@link ModelConfig}, its {@link ParamTable},
 * every parameter in one {@link FlatParameters} buffer, the checkpoint it came from, and the engine
 * that runs it ({@link Engine}: the hand-written CPU engine or the SameDiff graph, chosen once).
 * Load, save and inference entry points live here; the training step's forward + backward is a
 * {@link GradientEngine}.
 */
public final class CausalLm {
  private final ModelConfig config;
  private final ParamTable table;
  private final Path source;
  private final FlatParameters parameters;
  private Engine engine = Engine.chosen();
  private SameDiff sd; // built on first use: the graph engine, and logits()
  private CpuEngine cpu; // created on first use; shared by training, scoring and decoding
  private LoraAdapter adapter; // null: the model's own weights are what trains

  private CausalLm(ModelConfig config, Path source, FlatParameters parameters) {
    this.config = config;
    this.table = Family.tableOf(config);
    this.source = source;
    this.parameters = parameters;
  }

  /**
   * Loads a Hugging Face checkpoint directory (weights computed in fp32 whatever their dtype). Each
   * weight streams from its file straight into the model's parameter buffer, so loading needs no
   * Java-heap copy of the model (a 1 GB heap loads models of any size).
   */
  public static CausalLm load(Path dir) {
    return load(dir, DataType.FLOAT);
  }

  /**
   * As {@link #load(Path)} with the weights held as {@code storage}: FLOAT, or BFLOAT16 / HALF for
   * a base that stays frozen (a LoRA run), rounded once here and computed in fp32.
   */
  public static CausalLm load(Path dir, DataType storage) {
    HfCheckpoint.checkDirectory(dir);
    ModelConfig config = Family.readConfig(dir.resolve(HfCheckpoint.CONFIG));
    ParamTable table = Family.tableOf(config);
    HfCheckpoint.Layout layout = HfCheckpoint.open(dir, table);
    FlatParameters params = emptyParameters(table, storage);
    if (HalfPrecision.isHalf(storage)) {
      java.nio.ShortBuffer dst = HalfPrecision.shorts(params.flat());
      params
          .views()
          .forEach(
              (name, view) -> {
                long at = view.offset();
                layout
                    .tensors()
                    .get(name)
                    .readInto(
                        (done, chunk, count) ->
                            HalfPrecision.encode(storage, chunk, count, dst, (int) (at + done)));
              });
    } else if (Nd4j.getEnvironment().isCPU()) {
      FloatBuffer dst = params.flat().data().asNioFloat();
      params
          .views()
          .forEach(
              (name, view) ->
                  layout.tensors().get(name).readInto(dst, Math.toIntExact(view.offset())));
    } else {
      params.views().forEach((name, view) -> copy(layout.tensors().get(name).read(), view));
    }
    return new CausalLm(config, dir, params);
  }

  public static CausalLm fromTensors(ModelConfig config, Map<String, Tensor> tensors, Path source) {
    FlatParameters params = emptyParameters(Family.tableOf(config));
    for (Map.Entry<String, INDArray> e : params.views().entrySet()) {
      Tensor t = tensors.get(e.getKey());
      if (t == null) throw new IllegalArgumentException("missing weight " + e.getKey());
      copy(t, e.getValue());
    }
    return new CausalLm(config, source, params);
  }

  /**
   * A randomly initialized model ({@link ModelInit}), each tensor generated straight into the
   * parameter buffer.
   */
  public static CausalLm random(ModelConfig config, long seed) {
    return random(config, seed, DataType.FLOAT);
  }

  /**
   * As {@link #random(ModelConfig, long)} held as {@code storage} (see {@link #load(Path,
   * DataType)}).
   */
  public static CausalLm random(ModelConfig config, long seed, DataType storage) {
    ParamTable table = Family.tableOf(config);
    FlatParameters params = emptyParameters(table, storage);
    java.nio.ShortBuffer half =
        HalfPrecision.isHalf(storage) ? HalfPrecision.shorts(params.flat()) : null;
    ModelInit.generate(
        config,
        table,
        seed,
        (name, t) -> {
          INDArray view = params.views().get(name);
          if (half == null) {
            copy(t, view);
            return;
          }
          float[] v = t.data();
          HalfPrecision.encode(storage, v, v.length, half, Math.toIntExact(view.offset()));
        });
    return new CausalLm(config, null, params);
  }

  private static FlatParameters emptyParameters(ParamTable table) {
    return emptyParameters(table, DataType.FLOAT);
  }

  private static FlatParameters emptyParameters(ParamTable table, DataType storage) {
    long total = 0;
    for (long[] shape : table.shapes().values()) total += Tensor.numel(shape);
    if (total >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "models of more than 2^31 parameters are not supported (this one has " + total + ")");
    }
    return FlatParameters.zeros(table.shapes(), (name, shape) -> table.decays(name), storage);
  }

  /** Copies a host tensor into a parameter view (bulk on CPU: no temporary native array). */
  private static void copy(Tensor t, INDArray view) {
    if (Nd4j.getEnvironment().isCPU()) {
      view.data().asNioFloat().put(Math.toIntExact(view.offset()), t.data());
    } else {
      view.assign(Nd4j.createFromArray(t.data()).reshape(view.shape()));
    }
  }

  public ModelConfig config() {
    return config;
  }

  public ParamTable table() {
    return table;
  }

  /** The checkpoint directory this model was loaded from (null if built in memory). */
  public Path source() {
    return source;
  }

  /** The engine this model runs on (training, scoring, decoding). */
  public Engine engine() {
    return engine;
  }

  /** Runs this model on {@code e} from now on (tests compare the two engines on one model). */
  public CausalLm useEngine(Engine e) {
    if (e == Engine.CPU && !CpuEngine.supports(this)) {
      throw new IllegalArgumentException("the CPU engine cannot run a model this large");
    }
    this.engine = e;
    return this;
  }

  /**
   * Runs this model from now on with {@code lora}'s low-rank paths beside its frozen projections
   * (unmerged: training and scoring; decoding needs {@link LoraAdapter#mergeInto}). Engines built
   * before are dropped.
   */
  public CausalLm withAdapter(LoraAdapter lora) {
    this.adapter = lora;
    this.cpu = null;
    this.sd = null;
    return this;
  }

  /** The attached LoRA adapter, or null. */
  public LoraAdapter adapter() {
    return adapter;
  }

  /** What training updates: the adapter's matrices when one is attached, else every parameter. */
  public FlatParameters trainable() {
    return adapter != null ? adapter.parameters() : parameters;
  }

  /** How the weights are held: FLOAT, or BFLOAT16 / HALF for a frozen base. */
  public DataType storage() {
    return parameters.flat().dataType();
  }

  /** The SameDiff graph of this model, its variables views of the parameter buffer. */
  SameDiff graph() {
    if (sd == null) sd = ModelGraph.build(config, table, parameters.views(), adapter);
    return sd;
  }

  /** The hand-written engine on this model's parameters (one per model: its buffers are reused). */
  public CpuEngine cpu() {
    if (cpu == null) cpu = new CpuEngine(this);
    return cpu;
  }

  /** Parameter names in checkpoint order. */
  public List<String> parameterNames() {
    return table.names();
  }

  /** Every parameter in one buffer; {@link #parameter} views into it (updates change the model). */
  public FlatParameters parameters() {
    return parameters;
  }

  /** The live array of a parameter (updates to it change the model). */
  public INDArray parameter(String name) {
    INDArray a = parameters.views().get(name);
    if (a == null) throw new IllegalArgumentException("no parameter " + name);
    return a;
  }

  /** A host copy of every weight, in checkpoint order. */
  public Map<String, Tensor> exportWeights() {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (String name : parameterNames()) {
      INDArray a = parameter(name);
      out.put(name, Tensor.ofFloats(a.shape(), a.dup().data().asFloat()));
    }
    return out;
  }

  /** Writes the model as a Hugging Face checkpoint into {@code dir}. */
  public void save(Path dir, DType dtype, Path tokenizerSource) throws IOException {
    Map<String, ArraySource> weights = new LinkedHashMap<>();
    for (String name : parameterNames()) weights.put(name, new ArraySource(parameter(name)));
    HfCheckpoint.save(dir, config.json(), table, weights, dtype, tokenizerSource);
  }

  /** Every row of the batch. */
  static int[] allRows(Batch b) {
    int[] r = new int[b.inputIds().length];
    for (int i = 0; i < r.length; i++) r[i] = i;
    return r;
  }

  /** The rows whose prediction is in the loss (loss mask ≠ 0). */
  public static int[] lossRows(Batch b) {
    int n = 0;
    for (float m : b.lossMask()) if (m != 0f) n++;
    int[] r = new int[n];
    n = 0;
    for (int i = 0; i < b.lossMask().length; i++) if (b.lossMask()[i] != 0f) r[n++] = i;
    return r;
  }

  /** Refuses a batch longer than the context, or with ids, positions or labels out of range. */
  public void checkIds(Batch b) {
    if (b.length() > config.nPositions()) {
      throw new IllegalArgumentException(
          "sequence length "
              + b.length()
              + " exceeds the model's context of "
              + config.nPositions()
              + " positions");
    }
    for (int id : b.inputIds()) {
      if (id < 0 || id >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "token id " + id + " outside the vocabulary of " + config.vocabSize());
      }
    }
    for (int i = 0; i < b.positionIds().length; i++) {
      int p = b.positionIds()[i];
      if (p < 0 || p >= config.nPositions()) {
        throw new IllegalArgumentException(
            "position " + p + " outside the context of " + config.nPositions());
      }
      int l = b.labels()[i];
      if (l < 0 || l >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "label " + l + " outside the vocabulary of " + config.vocabSize());
      }
    }
  }

  /** Logits [N, V] for every position of a batch (through the graph; tests and small batches). */
  public INDArray logits(Batch b) {
    checkIds(b);
    return graph()
        .output(
            ModelGraph.placeholders(config, b, allRows(b), null, AttentionBias.of(b)),
            ModelGraph.LOGITS)
        .get(ModelGraph.LOGITS);
  }

  /**
   * −ln P(label) and the argmax token at the positions whose loss mask is non-zero (0 and −1
   * elsewhere), computing the LM head only there and never keeping [N, V] logits.
   */
  public TokenScores tokenScores(Batch b) {
    if (engine == Engine.CPU) return cpu().score(b, KeyRanges.of(b));
    return tokenScores(b, AttentionBias.of(b));
  }

  /**
   * {@link #tokenScores(Batch)} with an explicit additive attention bias, flattened [B, 1, T, T].
   */
  public TokenScores tokenScores(Batch b, float[] bias) {
    if (engine == Engine.CPU) {
      var keys = KeyRanges.ofBias(bias, b.rows(), b.length());
      if (keys != null) return cpu().score(b, keys);
    }
    return tokenScores(b, Nd4j.createFromArray(bias).reshape(b.rows(), 1, b.length(), b.length()));
  }

  private TokenScores tokenScores(Batch b, INDArray bias) {
    int n = b.inputIds().length;
    double[] nll = new double[n];
    int[] argmax = new int[n];
    java.util.Arrays.fill(argmax, -1);
    int[] rows = lossRows(b);
    if (rows.length == 0) return new TokenScores(nll, argmax);
    checkIds(b);
    Map<String, INDArray> out =
        graph()
            .output(
                ModelGraph.placeholders(config, b, rows, null, bias),
                ModelGraph.TOKEN_NLL,
                ModelGraph.ARGMAX);
    double[] got = out.get(ModelGraph.TOKEN_NLL).castTo(DataType.DOUBLE).toDoubleVector();
    int[] best = out.get(ModelGraph.ARGMAX).castTo(DataType.INT).toIntVector();
    for (int i = 0; i < rows.length; i++) {
      nll[rows[i]] = got[i];
      argmax[rows[i]] = best[i];
    }
    return new TokenScores(nll, argmax);
  }

  /** Per-position negative log-likelihood of the label and the model's most likely token. */
  public record TokenScores(double[] nll, int[] argmax) {}
}
