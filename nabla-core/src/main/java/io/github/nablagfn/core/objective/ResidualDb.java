package io.github.nablagfn.core.objective;

/**
 * Residual DB (a baseline of the Nabla-GFlowNet paper): detailed balance of the fine-tuned policy against
 * the pretrained one. The reference satisfies F_ref(x_t)·P_F^ref(x_s | x_t) = F_ref(x_s)·P_B(x_t | x_s) with
 * F_ref(x_0) = p_ref(x_0); dividing the fine-tuned model's balance (target p_ref·exp(βR)) by it cancels
 * P_B and leaves, with the residual log-flow log F̃ = log F − log F_ref,
 * <pre>
 *   Δ = log F̃(x_t) + log P_F^θ(x_s | x_t) − log P_F^ref(x_s | x_t) − log F̃(x_s),   log F̃(x_0) = β R(x_0)
 *   L_balance = mean over transitions of Δ²
 * </pre>
 * with the forward-looking log-flow of {@link DbObjective}. Both densities share the step's variance, so
 * their normalisers cancel and θ = reference gives a log-ratio of exactly 0.
 *
 * @param timestepFraction fraction of the N steps used per iteration, in (0, 1]
 * @param everyStep use every step (overrides the fraction)
 * @param rewardWeighting γ_t of the reward hint
 */
public record ResidualDb(double timestepFraction, boolean everyStep, RewardWeighting rewardWeighting)
    implements DbObjective {

  public ResidualDb {
    DbObjective.validate("residualDb", timestepFraction, rewardWeighting);
  }

  /** Defaults: fraction 0.1, γ = ᾱ_t. */
  public static ResidualDb defaults() {
    return new ResidualDb(0.1, false, RewardWeighting.ALPHA_BAR);
  }

  public ResidualDb timestepFraction(double fraction) {
    return new ResidualDb(fraction, false, rewardWeighting);
  }

  /** Train on every transition of each trajectory. */
  public ResidualDb allSteps() {
    return new ResidualDb(1.0, true, rewardWeighting);
  }

  public ResidualDb rewardWeighting(RewardWeighting weighting) {
    return new ResidualDb(timestepFraction, everyStep, weighting);
  }

  @Override
  public boolean residual() {
    return true;
  }

  @Override
  public String name() {
    return "residual-db";
  }
}
