package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/** out = x Wᵀ + b, independent of t: its Jacobian W makes every score a closed form. */
public final class LinearDenoiser implements Denoiser {
  private final ParameterSet params = new ParameterSet();
  private final int dim;

  public LinearDenoiser(INDArray w, INDArray b) {
    this.dim = (int) w.size(0);
    params.add("w", w);
    params.add("b", b);
  }

  @Override
  public long[] sampleShape() {
    return new long[] {dim};
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
    return scope.sd().mmul(x, scope.param("w"), false, true, false).add(scope.param("b"));
  }

  @Override
  public Denoiser copy() {
    return new LinearDenoiser(params.get("w").dup(), params.get("b").dup());
  }
}
