package io.github.nablagfn.core.objective;

/** Entry points for the objectives the trainer runs. */
public final class Objectives {
  private Objectives() {}

  /** Residual ∇-DB with the paper's defaults (fraction 0.1, γ_t = ᾱ_t, λ = 0). */
  public static ResidualNablaDb residualNablaDb() {
    return ResidualNablaDb.defaults();
  }

  /** Plain (non-residual) ∇-DB with the same defaults; balances against the noising process. */
  public static NablaDb nablaDb() {
    return NablaDb.defaults();
  }
}
