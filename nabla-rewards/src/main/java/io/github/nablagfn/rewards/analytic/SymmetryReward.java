package io.github.nablagfn.rewards.analytic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.reward.Reward;
import org.nd4j.autodiff.samediff.SDVariable;

/** R(x) = −mean((x − mirror(x))²), mirror flipping left and right: 0 for a symmetric image, negative otherwise. */
public final class SymmetryReward implements Reward {
  @Override
  public String name() {
    return "symmetry";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    SDVariable mirrored = scope.sd().reverse(x, 3);
    SDVariable d = x.sub(mirrored);
    return d.mul(d).mean(1, 2, 3).neg();
  }
}
