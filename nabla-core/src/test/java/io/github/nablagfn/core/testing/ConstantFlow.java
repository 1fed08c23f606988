package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** g(x, t) = value(t) · direction + bias, independent of x (bias is a zero trainable parameter). */
public final class ConstantFlow implements Denoiser {
  private final double[] value;
  private final double[] direction;
  private final ParameterSet params = new ParameterSet();

  public ConstantFlow(double[] valuePerTimestep, double[] direction) {
    this.value = valuePerTimestep.clone();
    this.direction = direction.clone();
    params.add("bias", Nd4j.zeros(DataType.FLOAT, direction.length));
  }

  @Override
  public long[] sampleShape() {
    return new long[] {direction.length};
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
    return TimestepTable.lookup(scope.sd(), t, value).mmul(scope.sd().constant(GaussianPriorDenoiser.row(direction)))
        .add(scope.param("bias")).add(x.mul(0.0));
  }

  @Override
  public Denoiser copy() {
    return new ConstantFlow(value, direction);
  }
}
