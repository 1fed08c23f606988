package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * R(x) = −½ ‖x − centre‖² / width² on vector data (B, d): a bump that favours the region around
 * {@code centre}; ∇R = −(x − centre)/width².
 */
public record QuadraticReward(double[] centre, double width) implements Reward {
  public QuadraticReward {
    if (centre.length < 1) {
      throw new IllegalArgumentException("quadratic reward: empty centre");
    }
    if (!(width > 0) || Double.isInfinite(width)) {
      throw new IllegalArgumentException("quadratic reward: width = " + width + "; expected a finite value > 0");
    }
    centre = centre.clone();
  }

  @Override
  public String name() {
    return "quadratic";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    float[] c = new float[centre.length];
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) centre[i];
    }
    SDVariable d = x.sub(scope.sd().constant(Nd4j.create(c, new long[] {1, c.length}, DataType.FLOAT)));
    // one coordinate: the square itself (ND4J 1.0.0-M2.1 fails on a sum over an axis of size 1 of a batch of
    // several rows; docs/samediff-notes.md)
    SDVariable sq = d.mul(d);
    return (c.length == 1 ? sq.reshape(-1) : sq.sum(1)).mul(-0.5 / (width * width));
  }
}
