package io.github.nablagfn.rewards.analytic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.reward.Reward;
import org.nd4j.autodiff.samediff.SDVariable;

/** R(x) = mean over pixels of (x + 1)/2: the amount of ink (brightness) in [0, 1]. */
public final class InkReward implements Reward {
  @Override
  public String name() {
    return "ink";
  }

  @Override
  public boolean differentiable() {
    return true;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    return x.add(1.0).mul(0.5).mean(1, 2, 3);
  }
}
