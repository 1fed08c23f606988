package io.github.nablagfn.core.train;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Denoising pretraining (Ho et al. 2020, "L_simple"): for x_0 from the data, t ~ U{0..T−1} and
 * ε ~ N(0, I), x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε and the loss is mean((f_θ(x_t, t, c) − target)²), where
 * the target is ε, x_0 or v per the denoiser's prediction type. Optimised with {@link AdamW}.
 *
 * <p>The graph is built once. Iteration k draws all its randomness from {@code Rng.of(seed).fork("pretrain", k)},
 * so a run resumed from {@link #save(Path)} continues bit-identically.
 */
public final class Pretrainer {
  private static final Logger LOG = LoggerFactory.getLogger(Pretrainer.class);
  private static final String TARGET = "target";
  private static final String LOSS = "loss";

  private final Denoiser denoiser;
  private final NoiseSchedule schedule;
  private final AdamW optimizer;
  private final int batchSize;
  private final Rng rng;
  private final SameDiff sd;
  private final String[] paramNames;
  private AdamW.State state;
  private LearningRate learningRate;
  private double labelDropout;
  private double emaDecay;
  private ParameterSet ema;
  private long iteration;

  /**
   * @param batchSize samples per iteration, at least 1
   * @param seed the run seed
   */
  public Pretrainer(Denoiser denoiser, NoiseSchedule schedule, AdamW optimizer, int batchSize, long seed) {
    NablaRuntime.init();
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize = " + batchSize + "; expected >= 1");
    }
    this.denoiser = denoiser;
    this.schedule = schedule;
    this.optimizer = optimizer;
    this.batchSize = batchSize;
    this.rng = Rng.of(seed);
    this.state = optimizer.newState(denoiser.parameters());
    this.learningRate = LearningRate.constant(optimizer.lr());
    this.sd = SameDiff.create();
    long[] shape = DenoiserGraph.withBatch(-1, denoiser.sampleShape());
    SDVariable x = sd.placeHolder(DenoiserGraph.X, DataType.FLOAT, shape);
    SDVariable t = sd.placeHolder(DenoiserGraph.T, DataType.DOUBLE, -1);
    SDVariable c = denoiser.numClasses() > 0 ? sd.placeHolder(DenoiserGraph.C, DataType.INT64, -1) : null;
    SDVariable target = sd.placeHolder(TARGET, DataType.FLOAT, shape);
    GraphScope scope = GraphScope.of(sd, "", denoiser.parameters());
    SDVariable out = denoiser.forward(scope, x, t, c);
    SDVariable diff = out.sub(target);
    diff.mul(diff).mean(LOSS);
    sd.setLossVariables(LOSS);
    this.paramNames = scope.variableNames();
    NablaRuntime.quietly(() -> {
      sd.createGradFunction();
      return null;
    });
  }

  /**
   * Condition dropout for classifier-free guidance: each label is replaced by the null label
   * (= numClasses) with probability p.
   */
  public Pretrainer labelDropout(double p) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("labelDropout = " + p + "; expected in [0, 1]");
    }
    if (p > 0 && denoiser.numClasses() < 1) {
      throw new IllegalArgumentException("labelDropout needs a conditional model");
    }
    this.labelDropout = p;
    return this;
  }

  /**
   * Keeps an exponential moving average of the weights, updated after every step:
   * ema ← decay·ema + (1 − decay)·θ, starting from the current weights. The EMA weights are usually
   * the ones to sample from and to ship.
   */
  public Pretrainer ema(double decay) {
    if (!(decay > 0 && decay < 1)) {
      throw new IllegalArgumentException("ema decay = " + decay + "; expected in (0, 1)");
    }
    this.emaDecay = decay;
    this.ema = denoiser.parameters().copy();
    return this;
  }

  /** The EMA weights (null unless {@link #ema(double)} was called). */
  public ParameterSet emaParameters() {
    return ema;
  }

  /** Replaces the optimizer's constant learning rate by a schedule over iterations. */
  public Pretrainer learningRate(LearningRate schedule) {
    this.learningRate = java.util.Objects.requireNonNull(schedule, "schedule");
    return this;
  }

  public long iteration() {
    return iteration;
  }

  public AdamW.State optimizerState() {
    return state;
  }

  /** Runs one iteration on a batch from {@code data}; returns the loss before the update. */
  public double step(DataSource data) {
    Rng it = rng.fork("pretrain", iteration);
    DataSource.Batch batch = data.next(it.fork("data", 0), batchSize);
    INDArray x0 = batch.samples();
    int b = Math.toIntExact(x0.size(0));
    int[] t = new int[b];
    for (int i = 0; i < b; i++) {
      t[i] = it.nextInt(schedule.numTrainTimesteps());
    }
    INDArray noise = it.fork("noise", 0).gaussian(x0.shape());
    INDArray xt = schedule.addNoise(x0, noise, t);
    double[] fromX0 = new double[b];
    double[] fromNoise = new double[b];
    for (int i = 0; i < b; i++) {
      double[] c = denoiser.predictionType().targetCoefficients(schedule.alphaCumprod(t[i]));
      fromX0[i] = c[0];
      fromNoise[i] = c[1];
    }
    INDArray target = NoiseSchedule.scaleRows(x0, fromX0).addi(NoiseSchedule.scaleRows(noise, fromNoise));
    INDArray labels = batch.labels();
    if (labelDropout > 0 && labels != null) {
      Rng drop = it.fork("label-dropout", 0);
      long[] l = labels.castTo(DataType.INT64).toLongVector();
      for (int i = 0; i < l.length; i++) {
        if (drop.nextDouble() < labelDropout) {
          l[i] = denoiser.numClasses();
        }
      }
      labels = org.nd4j.linalg.factory.Nd4j.createFromArray(l);
    }
    Map<String, INDArray> ph = DenoiserGraph.placeholders(denoiser, xt, t, labels);
    ph.put(TARGET, target);
    org.nd4j.autodiff.samediff.api.OutAndGrad og =
        GraphRuns.gradientsAndOutputs(sd, ph, java.util.List.of(LOSS), java.util.List.of(paramNames));
    Map<String, INDArray> grads = og.getGradients();
    double loss = og.getOutputs().get(LOSS).getDouble(0);
    if (!Double.isFinite(loss)) {
      throw new ArithmeticException("pretraining iteration " + iteration + ": loss is " + loss
          + "; parameters left unchanged");
    }
    optimizer.withLr(learningRate.at(iteration)).step(denoiser.parameters(), grads, state);
    if (ema != null) {
      for (String name : ema.names()) {
        ema.get(name).muli(emaDecay).addi(denoiser.parameters().get(name).mul(1 - emaDecay));
      }
    }
    iteration++;
    NablaRuntime.relieveMemory();
    return loss;
  }

  /** Runs {@code iterations} iterations; returns their losses. Logs progress every 10 %. */
  public double[] fit(DataSource data, int iterations) {
    double[] losses = new double[iterations];
    int every = Math.max(1, iterations / 10);
    for (int i = 0; i < iterations; i++) {
      losses[i] = step(data);
      if ((i + 1) % every == 0 || i + 1 == iterations) {
        double mean = Arrays.stream(losses, Math.max(0, i + 1 - every), i + 1).average().orElse(Double.NaN);
        LOG.info("pretrain iteration {} / {}: loss {}", iteration, iteration - i - 1 + iterations,
            String.format(java.util.Locale.ROOT, "%.5f", mean));
      }
    }
    return losses;
  }

  /** Writes parameters, optimizer state and the iteration counter (safetensors, atomic). */
  public void save(Path file) throws IOException {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    denoiser.parameters().asMap().forEach((k, v) -> tensors.put("param." + k, v));
    state.toTensors().forEach((k, v) -> tensors.put("opt." + k, v));
    if (ema != null) {
      ema.asMap().forEach((k, v) -> tensors.put("ema." + k, v));
    }
    Safetensors.write(file, tensors, Map.of("iteration", Long.toString(iteration),
        "seed", Long.toString(rng.seed()), "format", "nabla-pretrain-v1"));
  }

  /** Restores what {@link #save(Path)} wrote; the file must come from the same architecture and seed. */
  public void load(Path file) throws IOException {
    Safetensors.Contents c = Safetensors.read(file);
    if (!"nabla-pretrain-v1".equals(c.metadata().get("format"))) {
      throw new IOException(file + ": not a nabla pretraining checkpoint (format = " + c.metadata().get("format") + ")");
    }
    if (!Long.toString(rng.seed()).equals(c.metadata().get("seed"))) {
      throw new IOException(file + ": written with seed " + c.metadata().get("seed") + ", this run has seed " + rng.seed());
    }
    Map<String, INDArray> params = new LinkedHashMap<>();
    Map<String, INDArray> opt = new LinkedHashMap<>();
    Map<String, INDArray> emaTensors = new LinkedHashMap<>();
    c.tensors().forEach((k, v) -> {
      if (k.startsWith("param.")) {
        params.put(k.substring(6), v);
      } else if (k.startsWith("opt.")) {
        opt.put(k.substring(4), v);
      } else if (k.startsWith("ema.")) {
        emaTensors.put(k.substring(4), v);
      }
    });
    if (ema != null && emaTensors.isEmpty()) {
      throw new IOException(file + ": has no EMA weights but this run keeps an EMA");
    }
    AdamW.State restored;
    try {
      restored = AdamW.State.fromTensors(opt, denoiser.parameters());
      denoiser.parameters().validate(params, false);
      if (ema != null) {
        ema.validate(emaTensors, false);
      }
      denoiser.parameters().load(params, false);
      if (ema != null) {
        ema.load(emaTensors, false);
      }
    } catch (IllegalArgumentException e) {
      throw new IOException(file + ": " + e.getMessage(), e);
    }
    state = restored;
    iteration = Long.parseLong(c.metadata().get("iteration"));
  }
}
