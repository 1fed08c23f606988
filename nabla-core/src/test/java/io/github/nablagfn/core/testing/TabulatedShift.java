package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trainable per-timestep vector, optionally added to the exact ε-predictor of N(m, sI):
 * out(x, t) = [√(1−ᾱ_t)(x − √ᾱ_t m)/(ᾱ_t s + 1 − ᾱ_t)] + table[t], table (T × d) a parameter starting at 0.
 * With the prior part it is a policy whose family contains the exact solution of the linear-Gaussian
 * toy (x-independent mean shifts per step); without it, a log-flow g(x, t) = table[t] that contains the
 * exact residual flow c_t·a − γ_tβ∇R(x̂0). Few parameters, so training converges in seconds.
 */
public final class TabulatedShift implements Denoiser {
  private final double[] m;
  private final double s;
  private final NoiseSchedule schedule;
  private final ParameterSet params = new ParameterSet();

  private TabulatedShift(double[] m, double s, NoiseSchedule schedule, int d) {
    this.m = m == null ? null : m.clone();
    this.s = s;
    this.schedule = schedule;
    params.add("table", Nd4j.zeros(DataType.FLOAT, schedule.numTrainTimesteps(), d));
  }

  /** The exact prior predictor plus a trainable shift table. */
  public static TabulatedShift policy(double[] m, double s, NoiseSchedule schedule) {
    return new TabulatedShift(m, s, schedule, m.length);
  }

  /** A trainable table alone (a flow network g(x, t) that ignores x). */
  public static TabulatedShift flow(int d, NoiseSchedule schedule) {
    return new TabulatedShift(null, 0, schedule, d);
  }

  @Override
  public long[] sampleShape() {
    return new long[] {params.get("table").size(1)};
  }

  @Override
  public PredictionType predictionType() {
    return PredictionType.EPSILON;
  }

  @Override
  public int numClasses() {
    return 0;
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable t, SDVariable condition) {
    var sd = scope.sd();
    int T = schedule.numTrainTimesteps();
    SDVariable shift = sd.oneHot(t.castTo(DataType.INT64), T, -1, 1.0, 0.0, DataType.FLOAT)
        .mmul(scope.param("table"));
    if (m == null) {
      return x.mul(0).add(shift);
    }
    double[] abar = schedule.alphasCumprod();
    double[] slope = new double[T];
    double[] sqrtAbar = new double[T];
    for (int i = 0; i < T; i++) {
      slope[i] = Math.sqrt(1 - abar[i]) / (abar[i] * s + 1 - abar[i]);
      sqrtAbar[i] = Math.sqrt(abar[i]);
    }
    SDVariable k = TimestepTable.lookup(sd, t, slope);
    SDVariable mean = TimestepTable.lookup(sd, t, sqrtAbar).mmul(sd.constant(GaussianPriorDenoiser.row(m)));
    return x.sub(mean).mul(k).add(shift);
  }

  @Override
  public Denoiser copy() {
    TabulatedShift c = new TabulatedShift(m, s, schedule, (int) params.get("table").size(1));
    c.params.get("table").assign(params.get("table"));
    return c;
  }
}
