package io.github.nablagfn.core.objective;

/**
 * Baselines that maximise the reward by backpropagating it through (part of) the sampling chain, with
 * the sampling noise held fixed: loss = −mean R(x_0). They differ in how much of the chain the gradient
 * crosses ({@link ChainBackprop} computes them all with one vector–Jacobian product per step, so memory is
 * that of one denoiser evaluation whatever the depth: gradient checkpointing by recomputation).
 */
public sealed interface RewardBackprop extends Objective permits DraftK, DraftLv, AlignProp, Refl {
  @Override
  default boolean learnsFlow() {
    return false;
  }

  @Override
  default boolean needsRewardGradient() {
    return true;
  }

  @Override
  default boolean needsTransitionDensities() {
    return false;
  }

  @Override
  default <R> R accept(Objective.Visitor<R> visitor) {
    return visitor.rewardBackprop(this);
  }

  @Override
  default java.util.Map<String, String> settings() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("objective", name());
    m.put("parameters", toString());
    return m;
  }
}
