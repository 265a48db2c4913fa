package dev.flantune.model;

import dev.flantune.data.Batch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.Listener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.config.ExecutionResult;
import org.nd4j.autodiff.samediff.config.SDValue;
import org.nd4j.autodiff.samediff.internal.AbstractSession.VarId;
import org.nd4j.autodiff.samediff.internal.FrameIter;
import org.nd4j.autodiff.samediff.internal.InferenceSession;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Forward + backward of a {@link CausalLm} through SameDiff's automatic differentiation of {@link
 * ModelGraph}, accumulating parameter gradients into persistent buffers. The engine for backends
 * other than the CPU (CUDA), and the second, independent implementation the hand-written {@link
 * dev.flantune.model.cpu.CpuEngine} is checked against.
 *
 * <p>Why a custom session: {@code SameDiff.fit} rebuilds its session (and array cache) per call,
 * and {@code calculateGradients} disables the cache; both are several times slower and heavier.
 * Here one {@link InferenceSession} on the gradient function lives as long as the model, so its
 * array cache stays warm. Each gradient is added to its buffer the moment it is produced. Trap: the
 * gradients must be requested as session outputs; requested only as required activations, the
 * session hands their arrays back to the cache and overwrites them.
 */
public final class GraphGradientEngine implements GradientEngine {
  private final CausalLm model;
  private final SameDiff gradFn;
  private final Map<String, String> gradToParam = new HashMap<>();
  private final FlatParameters gradientBuffer;
  private final Map<String, INDArray> gradients;
  private final Session session;
  private final List<String> gradNames;
  private final List<String> outputNames;
  private int calls;
  private boolean gradientsKnownZero; // see gradientsZeroed()

  public GraphGradientEngine(CausalLm model) {
    if (model.storage() != org.nd4j.linalg.api.buffer.DataType.FLOAT && model.adapter() == null)
      throw dev.flantune.util.FlanTuneException.badUsage(
          "a base held in two bytes is frozen: train a LoRA adapter on it (lora:), or use"
              + " model_dtype: f32");
    this.model = model;
    SameDiff sd = model.graph();
    if (sd.getFunction("grad") == null) sd.createGradFunction();
    this.gradFn = sd.getFunction("grad");
    this.gradientBuffer = model.trainable().zerosLike();
    this.gradients = gradientBuffer.views();
    for (String name : model.trainable().views().keySet()) {
      SDVariable g = sd.getVariable(name).getGradient();
      if (g == null) throw new IllegalStateException("parameter " + name + " has no gradient");
      gradToParam.put(g.name(), name);
    }
    this.gradNames = new ArrayList<>(gradToParam.keySet());
    this.outputNames = new ArrayList<>(gradNames);
    outputNames.add(ModelGraph.LOSS);
    this.session = new Session(gradFn);
  }

  @Override
  public CausalLm model() {
    return model;
  }

  @Override
  public FlatParameters trainable() {
    return model.trainable();
  }

  /** Gradient buffers by parameter name: the sum of every accumulated micro-batch's gradient. */
  @Override
  public Map<String, INDArray> gradients() {
    gradientsKnownZero = false;
    return gradients;
  }

  /** All gradient buffers as one, laid out like {@link #trainable()}. */
  @Override
  public FlatParameters gradientBuffer() {
    gradientsKnownZero = false;
    return gradientBuffer;
  }

  @Override
  public void zeroGradients() {
    if (!gradientsKnownZero) gradientBuffer.flat().assign(0);
    gradientsKnownZero = false;
  }

  @Override
  public void gradientsZeroed() {
    gradientsKnownZero = true;
  }

  /**
   * Runs forward + backward on one micro-batch and adds d(loss)/d(param) into the buffers, where
   * loss = Σ_i nll_i · lossWeights_i over the positions whose loss mask is non-zero (the LM head
   * runs only there). Returns that loss.
   */
  @Override
  public String name() {
    return "graph";
  }

  @Override
  public double accumulate(Batch batch, float[] lossWeights) {
    gradientsKnownZero = false;
    int[] rows = CausalLm.lossRows(batch);
    if (rows.length == 0) return 0; // nothing scored: this micro-batch adds no gradient
    model.checkIds(batch);
    Map<String, INDArray> ph =
        ModelGraph.placeholders(model.config(), batch, rows, lossWeights, AttentionBias.of(batch));
    At at =
        At.builder()
            .epoch(0)
            .iteration(calls++)
            .trainingThreadNum(0)
            .javaThreadNum(Thread.currentThread().getId())
            .operation(Operation.TRAINING)
            .build();
    session.loss = Double.NaN;
    long t0 = StepProfile.enabled() ? System.nanoTime() : 0;
    session.output(outputNames, ph, null, gradNames, null, at);
    if (t0 != 0) StepProfile.add("fwd+bwd (session.output, all)", System.nanoTime() - t0);
    for (INDArray g : session.produced) if (g.closeable()) g.close();
    session.produced.clear();
    return session.loss;
  }

  /**
   * The session that adds each parameter gradient to its buffer as the op producing it finishes.
   */
  private final class Session extends InferenceSession {
    final List<INDArray> produced = new ArrayList<>();
    double loss;

    Session(SameDiff sd) {
      super(sd);
    }

    @Override
    public ExecutionResult getOutputs(
        Pair<SameDiffOp, OpContext> opPair,
        FrameIter outputFrameIter,
        Set<VarId> opInputs,
        Set<VarId> allIterInputs,
        Set<String> constAndPhInputs,
        List<Listener> listeners,
        At at,
        MultiDataSet batch,
        Set<String> allReqVariables,
        Map<String, SDValue> otherPlaceHolders) {
      long t0 = StepProfile.enabled() ? System.nanoTime() : 0;
      ExecutionResult out =
          super.getOutputs(
              opPair,
              outputFrameIter,
              opInputs,
              allIterInputs,
              constAndPhInputs,
              listeners,
              at,
              batch,
              allReqVariables,
              otherPlaceHolders);
      if (t0 != 0)
        StepProfile.add("op:" + opPair.getFirst().getOp().opName(), System.nanoTime() - t0);
      long t1 = StepProfile.enabled() ? System.nanoTime() : 0;
      List<String> names = opPair.getFirst().getOutputsOfOp();
      for (int i = 0; i < names.size(); i++) {
        String param = gradToParam.get(names.get(i));
        if (param != null) {
          INDArray g = out.resultAt(i);
          gradients.get(param).addi(g);
          produced.add(g);
        } else if (names.get(i).equals(ModelGraph.LOSS)) {
          loss = out.resultAt(i).getDouble(0);
        }
      }
      if (t1 != 0) StepProfile.add("gradient accumulate (addi)", System.nanoTime() - t1);
      return out;
    }
  }
}
