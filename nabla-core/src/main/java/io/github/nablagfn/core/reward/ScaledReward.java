package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A reward with its scale β attached; the graph and values are those of the base reward. */
record ScaledReward(Reward base, double scale) implements Reward {
  ScaledReward {
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("reward scale beta = " + scale + "; expected a finite value >= 0");
    }
  }

  @Override
  public String name() {
    return base.name();
  }

  @Override
  public boolean differentiable() {
    return base.differentiable();
  }

  @Override
  public ParameterSet parameters() {
    return base.parameters();
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    return base.forward(scope, x, condition);
  }

  @Override
  public INDArray evaluate(INDArray x, INDArray condition) {
    return base.evaluate(x, condition);
  }

  @Override
  public void observe(INDArray values) {
    base.observe(values);
  }

  @Override
  public java.util.Map<String, INDArray> state() {
    return base.state();
  }
}
