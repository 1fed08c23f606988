package io.github.nablagfn.core.objective;

/**
 * A fine-tuning objective with validated settings; the trainer builds its graphs once per run. Four
 * families: the ∇-DB family ({@link NablaDbObjective}: Residual ∇-DB, plain ∇-DB), the scalar
 * detailed-balance baselines ({@link DbObjective}: DAG-DB, Residual DB), the
 * reward-backpropagation baselines ({@link RewardBackprop}: ReFL, DRaFT-K, DRaFT-LV, AlignProp) and DDPO
 * ({@link Ddpo}). The trainer runs each family with its own engine, chosen through {@link #accept}.
 */
public sealed interface Objective permits NablaDbObjective, DbObjective, RewardBackprop, Ddpo {
  /** A short name for logs, metrics and checkpoints. */
  String name();

  /** The settings as strings, recorded in checkpoints and compared on resume. */
  java.util.Map<String, String> settings();

  /**
   * Whether the objective can learn a log-flow network g_φ (the ∇-DB and DB families; there it is optional:
   * without one the ∇-DB family is the forward-only variant and the DB family's log-flow is its reward hint). The others take {@code FlowModel.none()}.
   */
  boolean learnsFlow();

  /** Whether the objective differentiates the reward (all but DDPO and the DB family, which need only its values). */
  boolean needsRewardGradient();

  /**
   * Whether the objective evaluates the sampler's transition densities log P_F(x_s | x_t), which needs a
   * stochastic step (σ > 0) everywhere: the ∇-DB and DB families and DDPO.
   */
  boolean needsTransitionDensities();

  /** Calls the visitor's method for this objective's family. */
  <R> R accept(Visitor<R> visitor);

  /** One method per family: whoever runs objectives handles every family, checked by the compiler. */
  interface Visitor<R> {
    R nablaDb(NablaDbObjective objective);

    R db(DbObjective objective);

    R rewardBackprop(RewardBackprop objective);

    R ddpo(Ddpo objective);
  }
}
