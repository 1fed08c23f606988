package io.github.nablagfn.core.objective;

/**
 * The scalar detailed-balance family, the paper's GFlowNet baselines: detailed balance on sampled
 * transitions x_t → x_s of the diffusion chain with a learned scalar log-flow. {@link DagDb} balances the
 * policy against the noising process P_B (target ∝ exp(βR), as DAG-DB); {@link ResidualDb} balances it
 * against the pretrained policy (target ∝ p_ref·exp(βR)). Both run on one graph ({@link DbLoss}).
 *
 * <p>The log-flow is forward-looking: log F(x_t) = γ_t·β·R(x̂0(x_t)) + ḡ_φ(x_t, t), where x̂0 is the
 * sampling-time prediction (a stop-gradient value), γ_t the {@link #rewardWeighting()} and ḡ_φ the mean over
 * elements of the flow network's output (a network with the policy's shapes, its output layer zero-initialised,
 * so the flow starts at the reward hint). At x_0 the flow is β·R(x_0) exactly. Only reward values are used:
 * any reward works, differentiable or not.
 */
public sealed interface DbObjective extends Objective permits DagDb, ResidualDb {
  /** Fraction of the N steps used per iteration, in (0, 1] (stratified, the final step always included). */
  double timestepFraction();

  /** Whether every step is used (overrides the fraction). */
  boolean everyStep();

  /** γ_t of the reward hint in the log-flow ({@link RewardWeighting#NONE}: no hint before x_0). */
  RewardWeighting rewardWeighting();

  /** True when the balance is taken relative to the reference policy. */
  boolean residual();

  @Override
  default boolean learnsFlow() {
    return true;
  }

  @Override
  default boolean needsRewardGradient() {
    return false;
  }

  @Override
  default boolean needsTransitionDensities() {
    return true;
  }

  @Override
  default <R> R accept(Objective.Visitor<R> visitor) {
    return visitor.db(this);
  }

  /** K, the number of transitions per trajectory of N steps. */
  default int transitionsPerTrajectory(int numSteps) {
    return everyStep() ? numSteps
        : Math.max(1, Math.min(numSteps, (int) Math.round(timestepFraction() * numSteps)));
  }

  @Override
  default java.util.Map<String, String> settings() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("objective", name());
    m.put("timestepFraction", Double.toString(timestepFraction()));
    m.put("everyStep", Boolean.toString(everyStep()));
    m.put("rewardWeighting", rewardWeighting().name());
    return m;
  }

  /** Validation shared by the family; {@code who} names the objective in messages. */
  static void validate(String who, double timestepFraction, RewardWeighting rewardWeighting) {
    if (!(timestepFraction > 0 && timestepFraction <= 1)) {
      throw new IllegalArgumentException(who + ".timestepFraction = " + timestepFraction + "; expected in (0, 1]");
    }
    java.util.Objects.requireNonNull(rewardWeighting, who + ".rewardWeighting");
  }
}
