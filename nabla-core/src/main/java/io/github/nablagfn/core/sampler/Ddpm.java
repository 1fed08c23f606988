package io.github.nablagfn.core.sampler;

import io.github.nablagfn.core.schedule.NoiseSchedule;

/**
 * Ancestral DDPM sampling (Ho et al. 2020, eqs. 6–7) from t to s: the posterior q(x_s | x_t, x̂0) with
 * α'_t = ᾱ_t/ᾱ_s and β'_t = 1 − α'_t,
 * <pre>
 *   μ  = √ᾱ_s β'_t/(1−ᾱ_t) · x̂0 + √α'_t (1−ᾱ_s)/(1−ᾱ_t) · x_t
 *   σ² = (1−ᾱ_s)/(1−ᾱ_t) · β'_t          ("fixed_small")
 * </pre>
 * Mathematically the same transition as DDIM with η = 1, written in the posterior's own form.
 */
public final class Ddpm extends Sampler {
  private Ddpm(Settings settings) {
    super(settings);
    buildSteps();
  }

  /** DDPM with {@code numSteps} steps over {@code schedule} (leading spacing, offset 1, ε-prediction). */
  public static Ddpm of(NoiseSchedule schedule, int numSteps) {
    return new Ddpm(defaults(schedule, numSteps));
  }

  /** DDPM with explicit settings. */
  public static Ddpm create(Settings settings) {
    return new Ddpm(settings);
  }

  @Override
  protected double[] meanInX0AndEps(double abarT, double abarS) {
    // 1. step-level alpha and beta
    double alphaStep = abarT / abarS;
    double betaStep = 1.0 - alphaStep;
    // 2. posterior mean coefficients (eq. 7)
    double fromX0 = Math.sqrt(abarS) * betaStep / (1.0 - abarT);
    double fromSample = Math.sqrt(alphaStep) * (1.0 - abarS) / (1.0 - abarT);
    // 3. posterior variance β̃
    double variance = (1.0 - abarS) / (1.0 - abarT) * betaStep;
    return new double[] {fromX0, 0.0, fromSample, variance};
  }

  @Override
  protected Sampler with(Settings settings) {
    return new Ddpm(settings);
  }
}
