package io.github.nablagfn.core.sampler;

import io.github.nablagfn.core.schedule.NoiseSchedule;

/**
 * DDIM (Song et al. 2021, eq. 12) with stochasticity η, from t to s:
 * <pre>
 *   x̂0  = (x_t − √(1−ᾱ_t) ε) / √ᾱ_t
 *   σ²  = η² (1−ᾱ_s)/(1−ᾱ_t) · (1 − ᾱ_t/ᾱ_s)
 *   μ   = √ᾱ_s x̂0 + √(1 − ᾱ_s − σ²) ε
 * </pre>
 * η = 0 is deterministic DDIM; η = 1 is the DDPM posterior q(x_s | x_t, x̂0).
 * Defaults: leading spacing, offset 1, ε-prediction, η = 1.
 */
public final class Ddim extends Sampler {
  private final double eta;

  private Ddim(Settings settings, double eta) {
    super(settings);
    if (!(eta >= 0.0) || Double.isInfinite(eta)) {
      throw new IllegalArgumentException("DDIM eta = " + eta + "; expected a finite value >= 0");
    }
    this.eta = eta;
    buildSteps();
  }

  /** DDIM with {@code numSteps} steps over {@code schedule}, η = 1. */
  public static Ddim of(NoiseSchedule schedule, int numSteps) {
    return new Ddim(defaults(schedule, numSteps), 1.0);
  }

  /** DDIM with explicit settings and η ≥ 0. */
  public static Ddim create(Settings settings, double eta) {
    return new Ddim(settings, eta);
  }

  /** A copy with stochasticity η ≥ 0. */
  public Ddim eta(double eta) {
    return new Ddim(settings, eta);
  }

  public double eta() {
    return eta;
  }

  @Override
  protected double[] meanInX0AndEps(double abarT, double abarS) {
    // 1. variance: σ² = η² (1−ᾱ_s)/(1−ᾱ_t) (1 − ᾱ_t/ᾱ_s)
    double variance = eta * eta * (1.0 - abarS) / (1.0 - abarT) * (1.0 - abarT / abarS);
    // 2. "direction pointing to x_t": √(1 − ᾱ_s − σ²) ε ; clamp rounding below zero
    double dir = Math.sqrt(Math.max(0.0, 1.0 - abarS - variance));
    // 3. μ = √ᾱ_s x̂0 + dir · ε
    return new double[] {Math.sqrt(abarS), dir, 0.0, variance};
  }

  @Override
  protected Sampler with(Settings settings) {
    return new Ddim(settings, eta);
  }
}
