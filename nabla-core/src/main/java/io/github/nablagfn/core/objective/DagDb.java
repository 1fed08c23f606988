package io.github.nablagfn.core.objective;

/**
 * DAG-DB (detailed balance on the diffusion chain; Zhang et al. 2024, a baseline of the Nabla-GFlowNet
 * paper): for each sampled transition x_t → x_s, with P_B(x_t | x_s) = N(√(ᾱ_t/ᾱ_s)·x_s, (1 − ᾱ_t/ᾱ_s)·I)
 * the noising kernel and full Gaussian log-densities,
 * <pre>
 *   Δ = log F(x_t) + log P_F^θ(x_s | x_t) − log F(x_s) − log P_B(x_t | x_s),   log F(x_0) = β R(x_0)
 *   L_balance = mean over transitions of Δ²
 * </pre>
 * with the forward-looking log-flow of {@link DbObjective}. The target is ∝ exp(βR) with no prior (the
 * pretrained model enters only as the initialisation), like plain ∇-DB's.
 *
 * @param timestepFraction fraction of the N steps used per iteration, in (0, 1]
 * @param everyStep use every step (overrides the fraction)
 * @param rewardWeighting γ_t of the reward hint
 */
public record DagDb(double timestepFraction, boolean everyStep, RewardWeighting rewardWeighting)
    implements DbObjective {

  public DagDb {
    DbObjective.validate("dagDb", timestepFraction, rewardWeighting);
  }

  /** Defaults: fraction 0.1, γ = ᾱ_t. */
  public static DagDb defaults() {
    return new DagDb(0.1, false, RewardWeighting.ALPHA_BAR);
  }

  public DagDb timestepFraction(double fraction) {
    return new DagDb(fraction, false, rewardWeighting);
  }

  /** Train on every transition of each trajectory. */
  public DagDb allSteps() {
    return new DagDb(1.0, true, rewardWeighting);
  }

  public DagDb rewardWeighting(RewardWeighting weighting) {
    return new DagDb(timestepFraction, everyStep, weighting);
  }

  @Override
  public boolean residual() {
    return false;
  }

  @Override
  public String name() {
    return "dag-db";
  }
}
