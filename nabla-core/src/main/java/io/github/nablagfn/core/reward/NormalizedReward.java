package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Running normalisation: R̃(x) = (R(x) − μ)/σ with μ and σ exponential moving averages of the mean and
 * standard deviation of R over the batches the trainer reports ({@link #observe}): after the first batch
 * μ, σ are that batch's; then μ ← m·μ + (1 − m)·mean, σ² ← m·σ² + (1 − m)·var with momentum m. Before
 * any batch, μ = 0 and σ = 1 (R̃ = R). σ is floored at 1e-8·(1 + |μ|).
 *
 * <p>The statistics enter the graph as constants that share their arrays, so every graph built on this
 * reward sees the current values without being rebuilt; the trainer saves them in checkpoints
 * ({@link #state()}), so a resumed run continues with the same statistics. Note that normalising changes
 * the target: p*(x) ∝ p_ref(x)·exp(β(R − μ)/σ), i.e. an effective scale β/σ that moves while σ does.
 */
public final class NormalizedReward implements Reward {
  private final Reward inner;
  private final double momentum;
  private final INDArray mean = Nd4j.scalar(DataType.FLOAT, 0f);
  private final INDArray std = Nd4j.scalar(DataType.FLOAT, 1f);
  private final INDArray count = Nd4j.scalar(DataType.FLOAT, 0f);
  private final ParameterSet params = new ParameterSet();

  NormalizedReward(Reward inner, double momentum) {
    if (!(momentum >= 0 && momentum < 1)) {
      throw new IllegalArgumentException("normalisation momentum = " + momentum + "; expected in [0, 1)");
    }
    this.inner = inner;
    this.momentum = momentum;
    inner.parameters().asMap().forEach((k, v) -> params.add("inner." + k, v));
    params.add("norm.mean", mean);
    params.add("norm.std", std);
  }

  public double mean() {
    return mean.getDouble(0);
  }

  public double std() {
    return std.getDouble(0);
  }

  @Override
  public String name() {
    return inner.name() + "-normalized";
  }

  @Override
  public boolean differentiable() {
    return inner.differentiable();
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    GraphScope sub = new GraphScope(scope.sd(), scope.prefix() + "inner.", inner.parameters(), false);
    GraphScope stats = new GraphScope(scope.sd(), scope.prefix(), params, false);
    return inner.forward(sub, x, condition).sub(stats.param("norm.mean")).div(stats.param("norm.std"));
  }

  @Override
  public INDArray evaluate(INDArray x, INDArray condition) {
    if (differentiable()) {
      return Reward.super.evaluate(x, condition);
    }
    return inner.evaluate(x, condition).castTo(DataType.FLOAT).sub(mean).divi(std);
  }

  /** {@code values} are this reward's outputs (normalised with the current μ, σ); they are mapped back to R. */
  @Override
  public void observe(INDArray values) {
    double mu = mean();
    double sigma = std();
    double[] raw = values.castTo(DataType.DOUBLE).toDoubleVector();
    double m = 0;
    for (int i = 0; i < raw.length; i++) {
      raw[i] = raw[i] * sigma + mu;
      m += raw[i] / raw.length;
    }
    double v = 0;
    for (double r : raw) {
      v += (r - m) * (r - m) / raw.length;
    }
    boolean first = count.getDouble(0) == 0;
    double newMean = first ? m : momentum * mu + (1 - momentum) * m;
    double newVar = first ? v : momentum * sigma * sigma + (1 - momentum) * v;
    mean.assign(newMean);
    std.assign(Math.max(Math.sqrt(newVar), 1e-8 * (1 + Math.abs(newMean))));
    count.assign(count.getDouble(0) + 1);
  }

  @Override
  public Map<String, INDArray> state() {
    return Map.of("mean", mean, "std", std, "count", count);
  }
}
