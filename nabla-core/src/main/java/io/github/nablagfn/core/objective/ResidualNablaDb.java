package io.github.nablagfn.core.objective;


/**
 * Residual ∇-DB (Nabla-GFlowNet, arXiv 2412.07775), for one transition x_t → x_s with σ² the step's
 * variance and sg the stop-gradient:
 * <pre>
 *   score_pf     = −(x_s − μ_θ(x_t))/σ²                       (trains θ)
 *   score_pf_ref = sg[−(x_s − μ_ref(x_t))/σ²]
 *   score_r(x)   = sg[γ_t β ∇_x R(x̂0_θ(x))]                   (β ∇R(x_0) at the end)
 *   L_fwd  = ‖score_pf − (score_pf_ref + g_φ(x_s) + score_r(x_s))‖²      g_φ(x_0) := 0
 *   L_bwd  = ‖rev_pf − (rev_pf_ref − g_φ(x_t) − score_r(x_t))‖²          rev_pf = sg[∇_{x_t} log P_F^θ(x_s|x_t)]
 *   L_term = ‖g_φ(x_0, 0)‖²                                              final step only
 *   L_reg  = λ ‖ε_θ(x_t) − sg[ε at sampling time]‖²
 * </pre>
 * Means over elements and the sampled transitions. L_fwd trains θ and φ; L_bwd and L_term train φ;
 * L_reg trains θ. Transitions: a stratified {@code timestepFraction} of the trajectory (the final
 * step always included), or every step.
 *
 * @param timestepFraction fraction of the N steps used per iteration, in (0, 1]
 * @param everyStep use every step (overrides the fraction)
 * @param rewardWeighting γ_t
 * @param regScale λ ≥ 0. The term pulls ε_θ back toward the outputs recorded while the trajectories were
 *     sampled: zero (up to rounding) for the first update of a batch, a trust region for the updates after
 *     it ({@code innerEpochs} > 1)
 * @param forwardWeighting the unit of each transition's forward residual ({@link ForwardWeighting})
 * @param innerEpochs optimizer updates per sampled batch, ≥ 1 ({@link NablaDbObjective#innerEpochs()})
 */
public record ResidualNablaDb(double timestepFraction, boolean everyStep, RewardWeighting rewardWeighting,
    double regScale, ForwardWeighting forwardWeighting, int innerEpochs) implements NablaDbObjective {

  public ResidualNablaDb {
    NablaDbObjective.validate("residualNablaDb", timestepFraction, rewardWeighting, regScale, forwardWeighting,
        innerEpochs);
  }

  /** Defaults: fraction 0.1, γ = ᾱ_t, no regulariser, residuals in score units. */
  public static ResidualNablaDb defaults() {
    return new ResidualNablaDb(0.1, false, RewardWeighting.ALPHA_BAR, 0.0, ForwardWeighting.score(), 1);
  }

  public ResidualNablaDb timestepFraction(double fraction) {
    return new ResidualNablaDb(fraction, false, rewardWeighting, regScale, forwardWeighting, innerEpochs);
  }

  /** Train on every transition of each trajectory. */
  public ResidualNablaDb allSteps() {
    return new ResidualNablaDb(1.0, true, rewardWeighting, regScale, forwardWeighting, innerEpochs);
  }

  public ResidualNablaDb rewardWeighting(RewardWeighting weighting) {
    return new ResidualNablaDb(timestepFraction, everyStep, weighting, regScale, forwardWeighting, innerEpochs);
  }

  public ResidualNablaDb regScale(double lambda) {
    return new ResidualNablaDb(timestepFraction, everyStep, rewardWeighting, lambda, forwardWeighting, innerEpochs);
  }

  /**
   * Optimizer updates per sampled batch of trajectories (default 1): each update after the first
   * recomputes the loss on the same trajectories, with the parameters the previous one left and a fresh
   * stratified choice of transitions.
   */
  public ResidualNablaDb innerEpochs(int epochs) {
    return new ResidualNablaDb(timestepFraction, everyStep, rewardWeighting, regScale, forwardWeighting, epochs);
  }

  /** The unit of each transition's forward residual. */
  public ResidualNablaDb forwardWeighting(ForwardWeighting weighting) {
    return new ResidualNablaDb(timestepFraction, everyStep, rewardWeighting, regScale, weighting, innerEpochs);
  }

  @Override
  public boolean residual() {
    return true;
  }

  @Override
  public String name() {
    return "residual-nabla-db";
  }
}
