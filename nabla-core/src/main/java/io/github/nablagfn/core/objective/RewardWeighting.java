package io.github.nablagfn.core.objective;

/**
 * γ_t in the log-flow parameterisation ∇log F̃(x_t) ≈ γ_t β ∇R(x̂0_θ(x_t)) + g_φ(x_t, t).
 * The paper's default is ᾱ_t ("squared"); 0 leaves the whole residual to g_φ.
 */
public enum RewardWeighting {
  /** γ_t = ᾱ_t. */
  ALPHA_BAR,
  /** γ_t = √ᾱ_t. */
  SQRT_ALPHA_BAR,
  /** γ_t = 0. */
  NONE;

  public double gamma(double alphaCumprod) {
    switch (this) {
      case ALPHA_BAR:
        return alphaCumprod;
      case SQRT_ALPHA_BAR:
        return Math.sqrt(alphaCumprod);
      case NONE:
        return 0.0;
      default:
        throw new IllegalStateException(name());
    }
  }
}
