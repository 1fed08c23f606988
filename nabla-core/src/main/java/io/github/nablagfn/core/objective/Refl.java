package io.github.nablagfn.core.objective;

/**
 * ReFL (Xu et al. 2023, ImageReward): sample to a random late step t (one of the last {@code lateSteps}
 * steps of the chain, uniformly), predict x̂0 from x_t in one step, and maximise R(x̂0) with the gradient
 * through that single prediction.
 *
 * @param lateSteps how many of the chain's final steps t is drawn from, ≥ 1
 */
public record Refl(int lateSteps) implements RewardBackprop {
  public Refl {
    if (lateSteps < 1) {
      throw new IllegalArgumentException("refl.lateSteps = " + lateSteps + "; expected >= 1");
    }
  }

  @Override
  public String name() {
    return "refl";
  }
}
