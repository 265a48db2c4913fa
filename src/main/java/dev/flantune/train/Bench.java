package dev.flantune.train;

import dev.flantune.data.Batch;
import dev.flantune.data.BatchSource;
import dev.flantune.model.CausalLm;
import dev.flantune.model.ModelConfig;
import dev.flantune.model.StepProfile;
import dev.flantune.model.family.Architecture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Times full training steps — the same {@link TrainStep} that {@code train} runs — on random data:
 * forward, target-masked loss, backward, clipping, AdamW. Reports medians after warm-up. In scoring
 * mode it times what evaluation runs instead: a forward pass and the log-probability of every label
 * ({@link CausalLm#tokenScores}).
 */
public final class Bench {
  private Bench() {}

  public record Settings(
      String arch,
      int vocab,
      int embd,
      int layers,
      int heads,
      Integer kvHeads,
      Integer inter,
      int seq,
      int batch,
      int steps,
      int warmup,
      boolean scoring,
      dev.flantune.model.lora.LoraSpec lora,
      DataType storage) {}

  public record Result(
      Settings settings,
      ModelConfig config,
      String engine,
      long parameters,
      double msPerStepMedian,
      double[] msPerStep,
      double tokensPerS,
      double gflops,
      double gemmCeilingGflops,
      double peakRssMb,
      double peakOffHeapMb,
      double peakHeapMb) {}

  public static Result run(Settings s) {
    return runAlternating(s, new int[][] {{s.seq, s.batch}})[0];
  }

  /**
   * {@link #run} for several (length, batch) shapes of one model, their steps alternated one by one
   * (shape 0, shape 1, …, then the next step): a machine whose speed drifts over minutes slows them
   * alike, so their tokens/s compare where separate runs minutes apart did not. One result per
   * shape, with the shape's length and batch in its settings; the GEMM ceiling and peak memory are
   * measured once for all.
   */
  public static Result[] runAlternating(Settings s, int[][] shapes) {
    int maxSeq = Arrays.stream(shapes).mapToInt(sh -> sh[0]).max().orElseThrow();
    ModelConfig c =
        new Architecture(
                s.arch,
                s.vocab,
                Math.max(maxSeq, 8),
                s.embd,
                s.layers,
                s.heads,
                s.kvHeads,
                s.inter,
                10000,
                true,
                null,
                s.vocab - 1)
            .config();
    CausalLm model = CausalLm.random(c, 0, s.storage);
    long params = model.parameterNames().stream().mapToLong(p -> model.parameter(p).length()).sum();
    long adapterParams = 0;
    if (s.lora != null) {
      var adapter = dev.flantune.model.lora.LoraAdapter.create(model, s.lora, 0, null);
      // B random rather than zero: the same work, and a step that really moves the outputs.
      adapter
          .parameters()
          .flat()
          .assign(
              Nd4j.rand(DataType.FLOAT, adapter.parameters().flat().length()).subi(0.5).muli(0.02));
      model.withAdapter(adapter);
      adapterParams = adapter.parameters().flat().length();
    }
    TrainStep step =
        s.scoring
            ? null
            : new TrainStep(model, new AdamW.Settings(0.9, 0.999, 1e-8, 0.0), 0, 1)
                .discardingGradients();
    int k = shapes.length;
    BatchSource[] data = new BatchSource[k];
    for (int j = 0; j < k; j++) data[j] = randomBatches(shapes[j][1], shapes[j][0], s.vocab, 1);
    double[][] ms = new double[k][s.steps];
    double peakHeap = 0;
    for (int i = 0; i < s.warmup + s.steps; i++) {
      for (int j = 0; j < k; j++) {
        Batch scored = s.scoring ? data[j].next() : null;
        long t0 = System.nanoTime();
        if (s.scoring) model.tokenScores(scored);
        else step.run(data[j], i, 1e-4);
        double elapsed = (System.nanoTime() - t0) / 1e6;
        if (i >= s.warmup) ms[j][i - s.warmup] = elapsed;
        Runtime rt = Runtime.getRuntime();
        peakHeap = Math.max(peakHeap, (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
      }
      if (i == s.warmup - 1) StepProfile.reset(); // profile the timed steps only
    }
    String engine = model.engine() == dev.flantune.model.Engine.CPU ? "cpu" : "graph";
    double ceiling = gemmCeiling(), rss = peakRssMb();
    double offHeap =
        Pointer.maxPhysicalBytes() > 0 ? Pointer.physicalBytes() / 1048576.0 : Double.NaN;
    Result[] out = new Result[k];
    for (int j = 0; j < k; j++) {
      int seq = shapes[j][0], batch = shapes[j][1];
      double median = median(ms[j]);
      double tokPerS = (double) batch * seq / (median / 1000);
      // FLOPs: 6 per parameter per token for the matmuls (the LM head counted via the embedding,
      // the position table excluded: it is a lookup), plus attention's QKᵀ and AV (forward 4·T·H·D
      // per token per layer, ×3).
      double positionTable = c.learnedPositions() ? (double) c.nPositions() * c.nEmbd() : 0;
      double matmulParams = params - positionTable;
      // A LoRA step skips the frozen weights' gradient GEMMs (4 rather than 6 per parameter) and
      // adds the adapter's thin GEMMs (6 per adapter parameter).
      double flopsPerToken =
          (s.lora != null ? 4 * matmulParams + 6.0 * adapterParams : 6 * matmulParams)
              + 12.0 * s.layers * seq * c.attnWidth();
      if (s.scoring) flopsPerToken /= 3; // forward only
      Settings shaped =
          new Settings(
              s.arch, s.vocab, s.embd, s.layers, s.heads, s.kvHeads, s.inter, seq, batch, s.steps,
              s.warmup, s.scoring, s.lora, s.storage);
      out[j] =
          new Result(
              shaped,
              c,
              engine,
              params,
              median,
              ms[j],
              tokPerS,
              flopsPerToken * tokPerS / 1e9,
              ceiling,
              rss,
              offHeap,
              peakHeap);
    }
    return out;
  }

  /** Endless random batches (every position a target). */
  public static BatchSource randomBatches(int rows, int t, int vocab, long seed) {
    return new BatchSource() {
      final SplittableRandom r = new SplittableRandom(seed);
      long pos;

      @Override
      public Batch next() {
        int n = rows * t;
        int[] ids = new int[n], positions = new int[n], seg = new int[n], labels = new int[n];
        float[] mask = new float[n];
        for (int i = 0; i < n; i++) {
          ids[i] = r.nextInt(vocab);
          labels[i] = r.nextInt(vocab);
          positions[i] = i % t;
          seg[i] = 1;
          mask[i] = 1f;
        }
        pos++;
        return new Batch(rows, t, ids, positions, seg, labels, mask);
      }

      @Override
      public long position() {
        return pos;
      }

      @Override
      public void seek(long p) {
        pos = p;
      }

      @Override
      public String fingerprint() {
        return "random";
      }
    };
  }

  /** fp32 GEMM 1024³ into a preallocated output: the machine's practical ceiling (median of 7). */
  public static double gemmCeiling() {
    INDArray a = Nd4j.rand(DataType.FLOAT, 1024, 1024), b = Nd4j.rand(DataType.FLOAT, 1024, 1024);
    INDArray out = Nd4j.create(DataType.FLOAT, new long[] {1024, 1024}, 'f');
    List<Double> g = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      long t0 = System.nanoTime();
      Nd4j.gemm(a, b, out, false, false, 1.0, 0.0);
      double s = (System.nanoTime() - t0) / 1e9;
      if (i >= 2) g.add(2.0 * 1024 * 1024 * 1024 / s / 1e9);
    }
    return median(g.stream().mapToDouble(Double::doubleValue).toArray());
  }

  static double median(double[] x) {
    double[] s = x.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** Peak resident set size of this process (VmHWM), in MB. */
  static double peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux
    }
    return Double.NaN;
  }
}
