package io.github.nablagfn.core.objective;

/**
 * Plain (non-residual) ∇-DB: the balance is taken against the noising process
 * P_B(x_t | x_s) = N(√(ᾱ_t/ᾱ_s) x_s, (1 − ᾱ_t/ᾱ_s) I) instead of the reference policy:
 * <pre>
 *   L_fwd = ‖score_pf − (∇_{x_s} log P_B(x_t|x_s) + g_φ(x_s) + score_r(x_s))‖²
 *   L_bwd = ‖rev_pf − (∇_{x_t} log P_B(x_t|x_s) − g_φ(x_t) − score_r(x_t))‖²
 * </pre>
 * with L_term and L_reg as in {@link ResidualNablaDb}. Its target is ∝ exp(βR(x_0)) alone: the pretrained
 * prior survives only through the initialisation, which is what the residual form fixes. Here g_φ must
 * also learn the prior's own log-flow, so expect larger flow losses than with the residual form.
 *
 * @param timestepFraction fraction of the N steps used per iteration, in (0, 1]
 * @param everyStep use every step (overrides the fraction)
 * @param rewardWeighting γ_t
 * @param regScale λ ≥ 0 (acts from the second update of a batch on: see {@link ResidualNablaDb})
 * @param forwardWeighting the unit of each transition's forward residual ({@link ForwardWeighting})
 * @param innerEpochs optimizer updates per sampled batch, ≥ 1 ({@link NablaDbObjective#innerEpochs()})
 */
public record NablaDb(double timestepFraction, boolean everyStep, RewardWeighting rewardWeighting,
    double regScale, ForwardWeighting forwardWeighting, int innerEpochs) implements NablaDbObjective {

  public NablaDb {
    NablaDbObjective.validate("nablaDb", timestepFraction, rewardWeighting, regScale, forwardWeighting,
        innerEpochs);
  }

  /** Defaults: fraction 0.1, γ = ᾱ_t, no regulariser, residuals in score units. */
  public static NablaDb defaults() {
    return new NablaDb(0.1, false, RewardWeighting.ALPHA_BAR, 0.0, ForwardWeighting.score(), 1);
  }

  public NablaDb timestepFraction(double fraction) {
    return new NablaDb(fraction, false, rewardWeighting, regScale, forwardWeighting, innerEpochs);
  }

  /** Train on every transition of each trajectory. */
  public NablaDb allSteps() {
    return new NablaDb(1.0, true, rewardWeighting, regScale, forwardWeighting, innerEpochs);
  }

  public NablaDb rewardWeighting(RewardWeighting weighting) {
    return new NablaDb(timestepFraction, everyStep, weighting, regScale, forwardWeighting, innerEpochs);
  }

  public NablaDb regScale(double lambda) {
    return new NablaDb(timestepFraction, everyStep, rewardWeighting, lambda, forwardWeighting, innerEpochs);
  }

  /**
   * Optimizer updates per sampled batch of trajectories (default 1): each update after the first
   * recomputes the loss on the same trajectories, with the parameters the previous one left and a fresh
   * stratified choice of transitions.
   */
  public NablaDb innerEpochs(int epochs) {
    return new NablaDb(timestepFraction, everyStep, rewardWeighting, regScale, forwardWeighting, epochs);
  }

  /** The unit of each transition's forward residual. */
  public NablaDb forwardWeighting(ForwardWeighting weighting) {
    return new NablaDb(timestepFraction, everyStep, rewardWeighting, regScale, weighting, innerEpochs);
  }

  @Override
  public boolean residual() {
    return false;
  }

  @Override
  public String name() {
    return "nabla-db";
  }
}
