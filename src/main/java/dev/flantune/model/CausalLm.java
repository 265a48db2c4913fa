package dev.flantune.model;

import dev.flantune.checkpoint.ArraySource;
import dev.flantune.checkpoint.DType;
import dev.flantune.checkpoint.Gpt2Weights;
import dev.flantune.checkpoint.HfCheckpoint;
import dev.flantune.checkpoint.Tensor;
import dev.flantune.data.Batch;
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
 * A GPT-2 causal language model: its config, its SameDiff graph whose variables hold the weights,
 * and the checkpoint it came from. Forward passes for inference live here (scoring through {@link
 * Gpt2Backprop} on CPU, logits and generation through the graph); the training step's forward +
 * backward lives in {@link GradientEngine}.
 */
public final class CausalLm {
  private final Gpt2Config config;
  private final SameDiff sd;
  private final Path source;
  private final FlatParameters parameters;
  private Gpt2Backprop direct; // created on first use; shared by training and scoring

  private CausalLm(Gpt2Config config, SameDiff sd, Path source, FlatParameters parameters) {
    this.config = config;
    this.sd = sd;
    this.source = source;
    this.parameters = parameters;
  }

  /**
   * Loads a Hugging Face checkpoint directory (weights computed in fp32 whatever their dtype). Each
   * weight streams from its file straight into the model's parameter buffer, so loading needs no
   * Java-heap copy of the model (a 1 GB heap loads models of any size).
   */
  public static CausalLm load(Path dir) {
    HfCheckpoint.Layout layout = HfCheckpoint.open(dir);
    FlatParameters params = emptyParameters(layout.config());
    if (Nd4j.getEnvironment().isCPU()) {
      FloatBuffer dst = params.flat().data().asNioFloat();
      params
          .views()
          .forEach(
              (name, view) ->
                  layout.tensors().get(name).readInto(dst, Math.toIntExact(view.offset())));
    } else {
      params.views().forEach((name, view) -> copy(layout.tensors().get(name).read(), view));
    }
    return new CausalLm(
        layout.config(), Gpt2Graph.build(layout.config(), params.views()), dir, params);
  }

  public static CausalLm fromTensors(Gpt2Config config, Map<String, Tensor> tensors, Path source) {
    FlatParameters params = emptyParameters(config);
    for (Map.Entry<String, INDArray> e : params.views().entrySet()) {
      Tensor t = tensors.get(e.getKey());
      if (t == null) throw new IllegalArgumentException("missing weight " + e.getKey());
      copy(t, e.getValue());
    }
    return new CausalLm(config, Gpt2Graph.build(config, params.views()), source, params);
  }

  /**
   * A randomly initialized model ({@link Gpt2Init}), each tensor generated straight into the
   * parameter buffer.
   */
  public static CausalLm random(Gpt2Config config, long seed) {
    FlatParameters params = emptyParameters(config);
    Gpt2Init.generate(config, seed, (name, t) -> copy(t, params.views().get(name)));
    return new CausalLm(config, Gpt2Graph.build(config, params.views()), null, params);
  }

  private static FlatParameters emptyParameters(Gpt2Config config) {
    long total = 0;
    for (long[] shape : Gpt2Weights.shapes(config).values()) total += Tensor.numel(shape);
    if (total >= Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "models of more than 2^31 parameters are not supported (this one has " + total + ")");
    }
    return FlatParameters.zeros(Gpt2Weights.shapes(config), Gpt2Weights::decays);
  }

  /** Copies a host tensor into a parameter view (bulk on CPU: no temporary native array). */
  private static void copy(Tensor t, INDArray view) {
    if (Nd4j.getEnvironment().isCPU()) {
      view.data().asNioFloat().put(Math.toIntExact(view.offset()), t.data());
    } else {
      view.assign(Nd4j.createFromArray(t.data()).reshape(view.shape()));
    }
  }

  public Gpt2Config config() {
    return config;
  }

  /** The checkpoint directory this model was loaded from (null if built in memory). */
  public Path source() {
    return source;
  }

  SameDiff graph() {
    return sd;
  }

  /** The hand-written engine on this model's parameters (one per model: its buffers are reused). */
  Gpt2Backprop direct() {
    if (direct == null) direct = new Gpt2Backprop(this);
    return direct;
  }

  /** Parameter names in checkpoint order. */
  public List<String> parameterNames() {
    return Gpt2Weights.names(config);
  }

  /** Every parameter in one buffer; {@link #parameter} views into it (updates change the model). */
  public FlatParameters parameters() {
    return parameters;
  }

  /** The live array of a parameter (updates to it change the model). */
  public INDArray parameter(String name) {
    return sd.getVariable(name).getArr();
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
    HfCheckpoint.save(dir, config, weights, dtype, tokenizerSource);
  }

  /**
   * The placeholder arrays for a batch. The head scores {@code rows} (indices into the flattened
   * batch); labels and loss weights are taken at those rows. {@code lossWeights} may be null
   * (zero).
   */
  Map<String, INDArray> placeholders(Batch b, int[] rows, float[] lossWeights) {
    return placeholders(b, rows, lossWeights, AttentionBias.of(b));
  }

  /** As above, with an explicit attention bias [B, 1, T, T] (e.g. a context shared by segments). */
  Map<String, INDArray> placeholders(
      Batch b, int[] rows, float[] lossWeights, INDArray attentionBias) {
    checkIds(b);
    int[] labels = new int[rows.length];
    float[] weights = new float[rows.length];
    for (int i = 0; i < rows.length; i++) {
      labels[i] = b.labels()[rows[i]];
      if (lossWeights != null) weights[i] = lossWeights[rows[i]];
    }
    Map<String, INDArray> ph = new LinkedHashMap<>();
    ph.put(Gpt2Graph.INPUT_IDS, Nd4j.createFromArray(b.inputIds()).reshape(b.rows(), b.length()));
    ph.put(
        Gpt2Graph.POSITION_IDS,
        Nd4j.createFromArray(b.positionIds()).reshape(b.rows(), b.length()));
    ph.put(Gpt2Graph.ATTN_BIAS, attentionBias);
    ph.put(Gpt2Graph.HEAD_ROWS, Nd4j.createFromArray(rows));
    ph.put(Gpt2Graph.LABELS, Nd4j.createFromArray(labels));
    ph.put(Gpt2Graph.LOSS_WEIGHTS, Nd4j.createFromArray(weights));
    return ph;
  }

  /** Every row of the batch. */
  static int[] allRows(Batch b) {
    int[] r = new int[b.inputIds().length];
    for (int i = 0; i < r.length; i++) r[i] = i;
    return r;
  }

  /** The rows whose prediction is in the loss (loss mask ≠ 0). */
  static int[] lossRows(Batch b) {
    int n = 0;
    for (float m : b.lossMask()) if (m != 0f) n++;
    int[] r = new int[n];
    n = 0;
    for (int i = 0; i < b.lossMask().length; i++) if (b.lossMask()[i] != 0f) r[n++] = i;
    return r;
  }

  void checkIds(Batch b) {
    if (b.length() > config.nPositions()) {
      throw new IllegalArgumentException(
          "sequence length "
              + b.length()
              + " exceeds the model's n_positions "
              + config.nPositions());
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
            "position " + p + " outside n_positions " + config.nPositions());
      }
      int l = b.labels()[i];
      if (l < 0 || l >= config.vocabSize()) {
        throw new IllegalArgumentException(
            "label " + l + " outside the vocabulary of " + config.vocabSize());
      }
    }
  }

  /** Logits [N, V] for every position of a batch. */
  public INDArray logits(Batch b) {
    return sd.output(placeholders(b, allRows(b), null), Gpt2Graph.LOGITS).get(Gpt2Graph.LOGITS);
  }

  /**
   * −ln P(label) and the argmax token at the positions whose loss mask is non-zero (0 and −1
   * elsewhere), computing the LM head only there and never keeping [N, V] logits.
   */
  public TokenScores tokenScores(Batch b) {
    if (GradientEngine.useDirect(this)) return direct().score(b, Gpt2Backprop.KeyRanges.of(b));
    return tokenScores(b, AttentionBias.of(b));
  }

  /**
   * {@link #tokenScores(Batch)} with an explicit additive attention bias, flattened [B, 1, T, T].
   */
  public TokenScores tokenScores(Batch b, float[] bias) {
    if (GradientEngine.useDirect(this)) {
      var keys = Gpt2Backprop.KeyRanges.ofBias(bias, b.rows(), b.length());
      if (keys != null) return direct().score(b, keys);
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
    Map<String, INDArray> out =
        sd.output(placeholders(b, rows, null, bias), Gpt2Graph.TOKEN_NLL, Gpt2Graph.ARGMAX);
    double[] got = out.get(Gpt2Graph.TOKEN_NLL).castTo(DataType.DOUBLE).toDoubleVector();
    int[] best = out.get(Gpt2Graph.ARGMAX).castTo(DataType.INT).toIntVector();
    for (int i = 0; i < rows.length; i++) {
      nll[rows[i]] = got[i];
      argmax[rows[i]] = best[i];
    }
    return new TokenScores(nll, argmax);
  }

  /** Per-position negative log-likelihood of the label and the model's most likely token. */
  public record TokenScores(double[] nll, int[] argmax) {}
}
