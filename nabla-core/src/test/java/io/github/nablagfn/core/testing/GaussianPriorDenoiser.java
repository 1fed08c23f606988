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
 * The exact ε-predictor of an isotropic Gaussian prior N(m, sI) in d dimensions, optionally shifted by
 * a per-timestep vector shift(t)·direction:
 * ε(x, t) = √(1−ᾱ_t) (x − √ᾱ_t m)/(ᾱ_t s + 1 − ᾱ_t) + shift(t) · direction + bias,
 * where {@code bias} is a trainable parameter (zero) so SameDiff has a variable to differentiate.
 */
public final class GaussianPriorDenoiser implements Denoiser {
  private final double[] m;
  private final double s;
  private final NoiseSchedule schedule;
  private final double[] shift;
  private final double[] direction;
  private final ParameterSet params = new ParameterSet();

  public GaussianPriorDenoiser(double[] m, double s, NoiseSchedule schedule, double[] shift, double[] direction) {
    this.m = m.clone();
    this.s = s;
    this.schedule = schedule;
    this.shift = shift == null ? new double[schedule.numTrainTimesteps()] : shift.clone();
    this.direction = direction == null ? new double[m.length] : direction.clone();
    params.add("bias", Nd4j.zeros(DataType.FLOAT, m.length));
  }

  @Override
  public long[] sampleShape() {
    return new long[] {m.length};
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
    int T = schedule.numTrainTimesteps();
    double[] abar = schedule.alphasCumprod();
    double[] slope = new double[T];
    double[] sqrtAbar = new double[T];
    for (int i = 0; i < T; i++) {
      slope[i] = Math.sqrt(1 - abar[i]) / (abar[i] * s + 1 - abar[i]);
      sqrtAbar[i] = Math.sqrt(abar[i]);
    }
    var sd = scope.sd();
    SDVariable k = TimestepTable.lookup(sd, t, slope);
    SDVariable mean = TimestepTable.lookup(sd, t, sqrtAbar).mmul(sd.constant(row(m)));
    SDVariable eps = x.sub(mean).mul(k);
    SDVariable sh = TimestepTable.lookup(sd, t, shift).mmul(sd.constant(row(direction)));
    return eps.add(sh).add(scope.param("bias"));
  }

  static org.nd4j.linalg.api.ndarray.INDArray row(double[] v) {
    return Nd4j.createFromArray(v).castTo(DataType.FLOAT).reshape(1, v.length);
  }

  @Override
  public Denoiser copy() {
    GaussianPriorDenoiser c = new GaussianPriorDenoiser(m, s, schedule, shift, direction);
    c.params.get("bias").assign(params.get("bias"));
    return c;
  }
}
