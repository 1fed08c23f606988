package io.github.nablagfn.core.sampler;

/**
 * What a denoiser predicts. Each type converts to the predicted clean sample x̂0 and noise ε̂ by
 * formulas linear in (x_t, output), with α = √ᾱ_t and σ = √(1 − ᾱ_t):
 * <ul>
 *   <li>{@link #EPSILON}: ε̂ = out, x̂0 = (x_t − σ ε̂)/α</li>
 *   <li>{@link #SAMPLE}: x̂0 = out, ε̂ = (x_t − α x̂0)/σ</li>
 *   <li>{@link #V_PREDICTION}: v = α ε − σ x0, so x̂0 = α x_t − σ v and ε̂ = σ x_t + α v</li>
 * </ul>
 */
public enum PredictionType {
  EPSILON,
  SAMPLE,
  V_PREDICTION;

  /** Coefficients {x0FromSample, x0FromOutput, epsFromSample, epsFromOutput} at ᾱ_t. */
  public double[] coefficients(double alphaCumprod) {
    double a = Math.sqrt(alphaCumprod);
    double s = Math.sqrt(1.0 - alphaCumprod);
    switch (this) {
      case EPSILON:
        return new double[] {1.0 / a, -s / a, 0.0, 1.0};
      case SAMPLE:
        return new double[] {0.0, 1.0, 1.0 / s, -a / s};
      case V_PREDICTION:
        return new double[] {a, -s, s, a};
      default:
        throw new IllegalStateException(name());
    }
  }

  /**
   * The training target of this prediction type for a noised sample x_t = α x0 + σ ε:
   * ε, x0, or v = α ε − σ x0. Returns {fromOriginal, fromNoise} coefficients.
   */
  public double[] targetCoefficients(double alphaCumprod) {
    double a = Math.sqrt(alphaCumprod);
    double s = Math.sqrt(1.0 - alphaCumprod);
    switch (this) {
      case EPSILON:
        return new double[] {0.0, 1.0};
      case SAMPLE:
        return new double[] {1.0, 0.0};
      case V_PREDICTION:
        return new double[] {-s, a};
      default:
        throw new IllegalStateException(name());
    }
  }
}
