package io.github.nablagfn.core.objective;

/**
 * How much each transition's forward-balance residual counts in L_fwd of the ∇-DB family.
 *
 * <p>The residual score_pf − score_pf_ref − ∇log F̃(x_s) reaches the policy through
 * μ_θ = m_x x_t + m_o ε_θ, so its sensitivity to the network output is s = |m_o|/σ² per element. On
 * the default 50-step DDIM chain (η = 1) s is about 1.2 for the first 30 steps and 22, 376 and 148 for
 * the last three. In score units (the paper's loss) a transition's squared residual therefore counts
 * s² in output units: the final transition, always among the sampled ones, outweighs a mid-chain one by
 * about 10⁴, and the policy's update follows the last steps, where a sample's content no longer changes.
 *
 * <p>{@code capped(κ)} weighs a row by min(1, κ²/s²): a step's squared residual then counts
 * min(s², κ²) in output units — steps less sensitive than κ keep the paper's weight, more sensitive
 * ones count as much as a step of sensitivity κ. {@link #score()} (κ = ∞) is the paper's loss;
 * small κ (≈ 1 on the default chain) gives every step nearly the same weight in output units. The
 * balance each row is driven to — the minimiser of its own term — is the same for every κ.
 *
 * @param maxSensitivity κ > 0, or +∞ for score units
 */
public record ForwardWeighting(double maxSensitivity) {
  public ForwardWeighting {
    if (!(maxSensitivity > 0)) {
      throw new IllegalArgumentException("forwardWeighting.maxSensitivity = " + maxSensitivity
          + "; expected a value > 0 (or +Infinity for score units)");
    }
  }

  /** Score units, weight 1 per element: the paper's loss and the default. */
  public static ForwardWeighting score() {
    return new ForwardWeighting(Double.POSITIVE_INFINITY);
  }

  /** Rows weighted by min(1, κ²/s²), s = |m_o|/σ² their step's sensitivity to the network output. */
  public static ForwardWeighting capped(double maxSensitivity) {
    return new ForwardWeighting(maxSensitivity);
  }

  /** Whether every row has weight 1 (score units). */
  public boolean isScore() {
    return maxSensitivity == Double.POSITIVE_INFINITY;
  }

  /** The weight of a row whose step has output coefficient {@code meanFromOutput} and 1/σ² {@code invVariance}. */
  public double weight(double meanFromOutput, double invVariance) {
    double s = Math.abs(meanFromOutput) * invVariance;
    if (isScore() || s <= maxSensitivity) {
      return 1.0;
    }
    double r = maxSensitivity / s;
    return r * r;
  }

  @Override
  public String toString() {
    return isScore() ? "score" : "capped(" + maxSensitivity + ")";
  }
}
