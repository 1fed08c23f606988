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

  /** DAG-DB: scalar detailed balance against the noising process, forward-looking log-flow (fraction 0.1, γ_t = ᾱ_t). */
  public static DagDb dagDb() {
    return DagDb.defaults();
  }

  /** Residual DB: scalar detailed balance against the pretrained policy, with the same defaults as {@link #dagDb()}. */
  public static ResidualDb residualDb() {
    return ResidualDb.defaults();
  }

  /** ReFL: reward of the one-step prediction x̂0 from a random step among the last {@code lateSteps}. */
  public static Refl refl(int lateSteps) {
    return new Refl(lateSteps);
  }

  /** ReFL from the last 10 steps. */
  public static Refl refl() {
    return new Refl(10);
  }

  /** DRaFT-K: gradient through the last k steps. */
  public static DraftK draftK(int k) {
    return new DraftK(k);
  }

  /** DRaFT-LV with n re-noised copies of the last step. */
  public static DraftLv draftLv(int copies) {
    return new DraftLv(copies);
  }

  /** AlignProp: gradient through the whole chain (checkpointed), without truncation. */
  public static AlignProp alignProp() {
    return new AlignProp(false);
  }

  /** DDPO (PPO-clip) with its defaults: clip 1e-4, every step, one update per batch. */
  public static Ddpo ddpo() {
    return Ddpo.defaults();
  }
}
