package io.github.nablagfn.core.sampler;

import io.github.nablagfn.core.schedule.NoiseSchedule;

/**
 * First-order SDE-DPM-Solver++ (Lu et al. 2022, "DPM-Solver++", the SDE variant with data prediction;
 * diffusers' {@code algorithm_type="sde-dpmsolver++"}, {@code solver_order=1}). With α = √ᾱ,
 * σ = √(1−ᾱ), λ = log(α/σ) and h = λ_s − λ_t:
 * <pre>
 *   x_s = (σ_s/σ_t) e^{−h} x_t + α_s (1 − e^{−2h}) x̂0 + σ_s √(1 − e^{−2h}) z
 * </pre>
 * At first order this coincides with the DDPM posterior step; it is kept as its own class so the
 * formula can be checked independently and higher orders added.
 */
public final class SdeDpmSolverPP extends Sampler {
  private SdeDpmSolverPP(Settings settings) {
    super(settings);
    buildSteps();
  }

  /** First-order SDE-DPM-Solver++ with {@code numSteps} steps (leading spacing, offset 1, ε-prediction). */
  public static SdeDpmSolverPP of(NoiseSchedule schedule, int numSteps) {
    return new SdeDpmSolverPP(defaults(schedule, numSteps));
  }

  /** First-order SDE-DPM-Solver++ with explicit settings. */
  public static SdeDpmSolverPP create(Settings settings) {
    return new SdeDpmSolverPP(settings);
  }

  @Override
  protected double[] meanInX0AndEps(double abarT, double abarS) {
    double alphaT = Math.sqrt(abarT);
    double sigmaT = Math.sqrt(1.0 - abarT);
    double alphaS = Math.sqrt(abarS);
    double sigmaS = Math.sqrt(1.0 - abarS);
    if (sigmaS == 0.0) {
      // λ_s = +∞: e^{−h} = 0, the step returns x̂0 exactly.
      return new double[] {alphaS, 0.0, 0.0, 0.0};
    }
    // 1. half-log-SNR step h = λ_s − λ_t; e^{−h} = (α_t σ_s)/(σ_t α_s)
    double expMinusH = (alphaT * sigmaS) / (sigmaT * alphaS);
    double expMinus2H = expMinusH * expMinusH;
    // 2. mean and variance
    double fromSample = sigmaS / sigmaT * expMinusH;
    double fromX0 = alphaS * (1.0 - expMinus2H);
    double variance = sigmaS * sigmaS * (1.0 - expMinus2H);
    return new double[] {fromX0, 0.0, fromSample, variance};
  }

  @Override
  protected Sampler with(Settings settings) {
    return new SdeDpmSolverPP(settings);
  }
}
