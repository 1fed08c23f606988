package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.factory.Nd4j;

/** R(x) = aᵀx on vector data (B, d); ∇R = a. With a Gaussian prior N(m, sI) the tilted target is N(m + βsa, sI). */
public record LinearReward(double[] a) implements Reward {
  public LinearReward {
    if (a.length < 1) {
      throw new IllegalArgumentException("linear reward: empty coefficient vector");
    }
    a = a.clone();
  }

  @Override
  public String name() {
    return "linear";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    float[] f = new float[a.length];
    for (int i = 0; i < a.length; i++) {
      f[i] = (float) a[i];
    }
    SDVariable av = scope.sd().constant(Nd4j.create(f, new long[] {a.length, 1}, org.nd4j.linalg.api.buffer.DataType.FLOAT));
    return x.mmul(av).reshape(-1);
  }
}
