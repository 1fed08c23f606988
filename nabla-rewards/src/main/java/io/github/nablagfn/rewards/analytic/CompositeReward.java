package io.github.nablagfn.rewards.analytic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.reward.Reward;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/** R(x) = Σ_i w_i R_i(x); differentiable when every part is. Parts keep their own parameters (prefixed by index). */
public final class CompositeReward implements Reward {
  private final List<Reward> parts;
  private final double[] weights;

  public CompositeReward(List<Reward> parts, double[] weights) {
    if (parts.isEmpty() || parts.size() != weights.length) {
      throw new IllegalArgumentException(parts.size() + " rewards and " + weights.length + " weights; expected the same"
          + " positive number");
    }
    for (double w : weights) {
      if (!Double.isFinite(w)) {
        throw new IllegalArgumentException("composite reward weight " + w + "; expected a finite value");
      }
    }
    this.parts = List.copyOf(parts);
    this.weights = weights.clone();
  }

  @Override
  public String name() {
    List<String> n = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      n.add(weights[i] + "*" + parts.get(i).name());
    }
    return String.join("+", n);
  }

  @Override
  public boolean differentiable() {
    return parts.stream().allMatch(Reward::differentiable);
  }

  @Override
  public ParameterSet parameters() {
    ParameterSet all = new ParameterSet();
    for (int i = 0; i < parts.size(); i++) {
      int idx = i;
      parts.get(i).parameters().asMap().forEach((k, v) -> all.add(idx + "." + k, v));
    }
    return all;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    SDVariable sum = null;
    for (int i = 0; i < parts.size(); i++) {
      GraphScope sub = new GraphScope(scope.sd(), scope.prefix() + i + ".", parts.get(i).parameters(), scope.trainable());
      SDVariable r = parts.get(i).forward(sub, x, condition).mul(weights[i]);
      sum = sum == null ? r : sum.add(r);
    }
    return sum;
  }

  @Override
  public INDArray evaluate(INDArray x, INDArray condition) {
    if (differentiable()) {
      return Reward.super.evaluate(x, condition);
    }
    INDArray sum = null;
    for (int i = 0; i < parts.size(); i++) {
      INDArray r = parts.get(i).evaluate(x, condition).mul(weights[i]);
      sum = sum == null ? r : sum.addi(r);
    }
    return sum;
  }
}
