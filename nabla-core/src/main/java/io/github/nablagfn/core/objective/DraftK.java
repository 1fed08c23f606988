package io.github.nablagfn.core.objective;

/**
 * DRaFT-K (Clark et al. 2024): backpropagate R(x_0) through the last K sampling steps only.
 *
 * @param k steps the gradient crosses, ≥ 1 (K = 1 is the paper's default)
 */
public record DraftK(int k) implements RewardBackprop {
  public DraftK {
    if (k < 1) {
      throw new IllegalArgumentException("draftK.k = " + k + "; expected >= 1");
    }
  }

  @Override
  public String name() {
    return "draft-k";
  }
}
