package io.github.nablagfn.core.objective;

/**
 * The ∇-DB family: gradient detailed balance on sampled transitions, with a learned log-flow
 * γ_t β ∇R(x̂0_θ) + g_φ. {@link ResidualNablaDb} balances against the pretrained reference (and so keeps
 * its prior); {@link NablaDb} balances against the noising process P_B itself (target ∝ exp(βR) with the
 * prior kept only through the initialisation). Both run on the same graphs ({@link ResidualNablaDbLoss}).
 */
public sealed interface NablaDbObjective extends Objective permits ResidualNablaDb, NablaDb {
  /** Fraction of the N steps used per iteration, in (0, 1]. */
  double timestepFraction();

  /** Whether every step is used (overrides the fraction). */
  boolean everyStep();

  /** γ_t. */
  RewardWeighting rewardWeighting();

  /** λ of the prior regulariser. */
  double regScale();

  /** The unit of each transition's forward residual. */
  ForwardWeighting forwardWeighting();

  /**
   * Optimizer updates per sampled batch, ≥ 1. Update k > 1 evaluates the loss on the batch's trajectories
   * with the parameters update k − 1 left (so the regulariser toward the sampling-time outputs acts) and
   * its own stratified choice of transitions (so more of each trajectory is used).
   */
  int innerEpochs();

  /** True when the balance is taken relative to the reference policy. */
  boolean residual();

  @Override
  default boolean learnsFlow() {
    return true;
  }

  @Override
  default boolean needsRewardGradient() {
    return true;
  }

  @Override
  default boolean needsTransitionDensities() {
    return true;
  }

  @Override
  default <R> R accept(Objective.Visitor<R> visitor) {
    return visitor.nablaDb(this);
  }

  /** K, the number of transitions per trajectory of N steps. */
  default int transitionsPerTrajectory(int numSteps) {
    return everyStep() ? numSteps
        : Math.max(1, Math.min(numSteps, (int) Math.round(timestepFraction() * numSteps)));
  }

  /** The settings shared by the family, for checkpoints. */
  default java.util.Map<String, String> settings() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("objective", name());
    m.put("timestepFraction", Double.toString(timestepFraction()));
    m.put("everyStep", Boolean.toString(everyStep()));
    m.put("rewardWeighting", rewardWeighting().name());
    m.put("regScale", Double.toString(regScale()));
    if (!forwardWeighting().isScore()) {
      // only when set, so that checkpoints written before the setting existed still resume
      m.put("forwardWeighting", forwardWeighting().toString());
    }
    if (innerEpochs() != 1) {
      m.put("innerEpochs", Integer.toString(innerEpochs())); // only when set, as above
    }
    return m;
  }

  /** Validation shared by the family; {@code who} names the objective in messages. */
  static void validate(String who, double timestepFraction, RewardWeighting rewardWeighting, double regScale,
      ForwardWeighting forwardWeighting, int innerEpochs) {
    if (innerEpochs < 1) {
      throw new IllegalArgumentException(who + ".innerEpochs = " + innerEpochs + "; expected >= 1");
    }
    java.util.Objects.requireNonNull(forwardWeighting, who + ".forwardWeighting");
    if (!(timestepFraction > 0 && timestepFraction <= 1)) {
      throw new IllegalArgumentException(who + ".timestepFraction = " + timestepFraction + "; expected in (0, 1]");
    }
    java.util.Objects.requireNonNull(rewardWeighting, who + ".rewardWeighting");
    if (!(regScale >= 0) || Double.isInfinite(regScale)) {
      throw new IllegalArgumentException(who + ".regScale = " + regScale + "; expected a finite value >= 0");
    }
  }
}
