package io.github.nablagfn.core.objective;

/**
 * A fine-tuning objective with validated settings; the trainer builds its graphs once per run. Three
 * families: the ∇-DB family ({@link NablaDbObjective}: Residual ∇-DB, plain ∇-DB), the
 * reward-backpropagation baselines ({@link RewardBackprop}: ReFL, DRaFT-K, DRaFT-LV, AlignProp) and DDPO
 * ({@link Ddpo}). The trainer runs each family with its own engine, chosen through {@link #accept}.
 */
public sealed interface Objective permits NablaDbObjective, RewardBackprop, Ddpo {
  /** A short name for logs, metrics and checkpoints. */
  String name();

  /** The settings as strings, recorded in checkpoints and compared on resume. */
  java.util.Map<String, String> settings();

  /**
   * Whether the objective can learn a log-flow network g_φ (the ∇-DB family; there it is optional:
   * without one it is the forward-only variant). The others take {@code FlowModel.none()}.
   */
  boolean learnsFlow();

  /** Whether the objective differentiates the reward (every objective but DDPO, which needs only its values). */
  boolean needsRewardGradient();

  /**
   * Whether the objective evaluates the sampler's transition densities log P_F(x_s | x_t), which needs a
   * stochastic step (σ > 0) everywhere: the ∇-DB family and DDPO.
   */
  boolean needsTransitionDensities();

  /** Calls the visitor's method for this objective's family. */
  <R> R accept(Visitor<R> visitor);

  /** One method per family: whoever runs objectives handles every family, checked by the compiler. */
  interface Visitor<R> {
    R nablaDb(NablaDbObjective objective);

    R rewardBackprop(RewardBackprop objective);

    R ddpo(Ddpo objective);
  }
}
