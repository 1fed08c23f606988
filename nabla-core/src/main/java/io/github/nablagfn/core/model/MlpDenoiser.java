package io.github.nablagfn.core.model;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.Linear;
import io.github.nablagfn.core.nn.Mlp;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.nn.SinusoidalEmbedding;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Toy denoiser for vector data (1-D/2-D): the sinusoidal embedding of t goes through
 * {@code time_fc} (embDim → hidden) and is added to {@code in_fc}(x), then an MLP
 * (SiLU between layers) maps to the output. Class labels, if any, add a learned embedding
 * (one-hot × matrix, {@code class_emb.weight} (numClasses, hidden)).
 *
 * <pre>
 *   h   = in_fc(x) + time_fc(sin_emb(t)) [+ class_emb[c]]
 *   out = mlp(SiLU(h))            mlp: hidden → hidden ×(depth−1) → dim
 * </pre>
 */
public final class MlpDenoiser implements Denoiser {
  /** Architecture of an {@link MlpDenoiser}. */
  public record Config(int dim, int hidden, int depth, int embDim, int numClasses, PredictionType prediction,
      boolean zeroOutput) {
    /** An architecture whose output layer starts at random (a denoiser). */
    public Config(int dim, int hidden, int depth, int embDim, int numClasses, PredictionType prediction) {
      this(dim, hidden, depth, embDim, numClasses, prediction, false);
    }

    public Config {
      if (dim < 1) {
        throw new IllegalArgumentException("dim = " + dim + "; expected >= 1");
      }
      if (hidden < 1) {
        throw new IllegalArgumentException("hidden = " + hidden + "; expected >= 1");
      }
      if (depth < 1) {
        throw new IllegalArgumentException("depth = " + depth + "; expected >= 1");
      }
      if (embDim < 2 || embDim % 2 != 0) {
        throw new IllegalArgumentException("embDim = " + embDim + "; expected an even number >= 2");
      }
      if (numClasses < 0) {
        throw new IllegalArgumentException("numClasses = " + numClasses + "; expected >= 0");
      }
      if (prediction == null) {
        throw new IllegalArgumentException("prediction must not be null");
      }
    }

    /** A 128-wide, depth-3 unconditional ε-model for {@code dim}-D data. */
    public static Config of(int dim) {
      return new Config(dim, 128, 3, 32, 0, PredictionType.EPSILON);
    }

    /** The same architecture with the output layer zero-initialised (a residual log-flow g_φ starts at 0). */
    public Config withZeroOutput() {
      return new Config(dim, hidden, depth, embDim, numClasses, prediction, true);
    }
  }

  private final Config config;
  private final ParameterSet params;
  private final Linear inFc;
  private final Linear timeFc;
  private final Mlp mlp;

  private MlpDenoiser(Config config, ParameterSet params, Linear inFc, Linear timeFc, Mlp mlp) {
    this.config = config;
    this.params = params;
    this.inFc = inFc;
    this.timeFc = timeFc;
    this.mlp = mlp;
  }

  /** A freshly initialised denoiser (PyTorch default init from {@code rng}). */
  public static MlpDenoiser create(Config config, Rng rng) {
    ParameterSet p = new ParameterSet();
    Linear inFc = Linear.create(p, rng, "in_fc", config.dim(), config.hidden(), true);
    Linear timeFc = Linear.create(p, rng, "time_fc", config.embDim(), config.hidden(), true);
    if (config.numClasses() > 0) {
      p.add("class_emb.weight", rng.gaussian(config.numClasses(), config.hidden()));
    }
    int[] widths = new int[config.depth() + 1];
    java.util.Arrays.fill(widths, config.hidden());
    widths[config.depth()] = config.dim();
    Mlp mlp = Mlp.create(p, rng, "mlp", widths, config.zeroOutput());
    return new MlpDenoiser(config, p, inFc, timeFc, mlp);
  }

  public Config config() {
    return config;
  }

  @Override
  public long[] sampleShape() {
    return new long[] {config.dim()};
  }

  @Override
  public PredictionType predictionType() {
    return config.prediction();
  }

  @Override
  public int numClasses() {
    return config.numClasses();
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable timesteps, SDVariable condition) {
    // 1. time embedding
    SDVariable temb = timeFc.forward(scope, SinusoidalEmbedding.forward(scope.sd(), timesteps, config.embDim()));
    // 2. input projection plus time (and class) embedding
    SDVariable h = inFc.forward(scope, x).add(temb);
    if (config.numClasses() > 0) {
      SDVariable oneHot = scope.sd().oneHot(condition, config.numClasses(), -1, 1.0, 0.0, DataType.FLOAT);
      h = h.add(oneHot.mmul(scope.param("class_emb.weight")));
    }
    // 3. MLP
    return mlp.forward(scope, io.github.nablagfn.core.nn.Activations.silu(scope.sd(), h));
  }

  @Override
  public MlpDenoiser copy() {
    return new MlpDenoiser(config, params.copy(), inFc, timeFc, mlp);
  }
}
