package io.github.nablagfn.examples.study;

/**
 * The exact residual log-flow of a 2-D Gaussian mixture prior (equal isotropic components N(m_k, v I),
 * weights w_k) tilted by the quadratic reward R(x) = −‖x − μ₀‖²/(2w²), under the continuous noising
 * x_t = √ᾱ x_0 + √(1 − ᾱ) ε:
 * <pre>
 *   log F̃(x_t) = log E[exp(βR(x_0)) | x_t] = log Σ_k π_k(x_t) E_k(x_t) with
 *   π_k ∝ w_k N(x_t; √ᾱ m_k, (ᾱv + 1 − ᾱ) I)            (posterior of the component)
 *   x_0 | x_t, k ~ N(m'_k, P I), P = 1/(1/v + ᾱ/(1 − ᾱ)), m'_k = P (m_k/v + √ᾱ x_t/(1 − ᾱ))
 *   E_k = (w²/(w² + βP)) · exp(−β‖m'_k − μ₀‖²/(2(w² + βP)))   (a Gaussian integral, d = 2)
 * </pre>
 * It is the flow the objective's target p_ref·exp(βR) implies when the pretrained model is the mixture
 * itself; a 50-step chain of the pretrained MLP is close to it, not equal.
 */
final class MixtureTilt {
  private final double[][] centres;
  private final double[] logWeights;
  private final double var;
  private final double beta;
  private final double width2;
  private final double[] mu0;

  /** The tilt of {@code data}'s own mixture (centres, weights, σ). */
  static MixtureTilt of(io.github.nablagfn.core.toy.GaussianMixtureData data, double beta, double width, double[] mu0) {
    double[] weights = new double[data.centres().length];
    for (int k = 0; k < weights.length; k++) {
      weights[k] = data.weight(k);
    }
    return new MixtureTilt(data.centres(), weights, data.std(), beta, width, mu0);
  }

  MixtureTilt(double[][] centres, double[] weights, double std, double beta, double width, double[] mu0) {
    this.centres = centres;
    this.logWeights = java.util.Arrays.stream(weights).map(Math::log).toArray();
    this.var = std * std;
    this.beta = beta;
    this.width2 = width * width;
    this.mu0 = mu0;
  }

  /**
   * The terminal residual log-flow gradient β∇R(x) = −β(x − μ₀)/w².
   */
  double[] terminalGradient(double[] x) {
    return new double[] {-beta * (x[0] - mu0[0]) / width2, -beta * (x[1] - mu0[1]) / width2};
  }

  /** log F̃(x) at ᾱ = a (up to a constant independent of x). */
  double logFlow(double[] x, double a) {
    return evaluate(x, a, null, null);
  }

  /** ∇ log F̃(x) at ᾱ = a. */
  double[] logFlowGradient(double[] x, double a) {
    double[] g = new double[2];
    evaluate(x, a, g, null);
    return g;
  }

  /** ∇ log p_t(x) of the noised mixture at ᾱ = a (its exact score; ε = −√(1 − ᾱ) · score). */
  double[] noisedScore(double[] x, double a) {
    double[] g = new double[2];
    evaluate(x, a, null, g);
    return g;
  }

  /** log F̃, its gradient into {@code grad} and the noised prior's score into {@code score}, when not null. */
  private double evaluate(double[] x, double a, double[] grad, double[] score) {
    int k = centres.length;
    double noisy = a * var + 1 - a;
    double p = 1 / (1 / var + a / (1 - a));
    double ra = Math.sqrt(a);
    double[] prior = new double[k]; // log w_k N(x; √a m_k, noisy I) + const
    double[] tilted = new double[k]; // the same + log E_k
    double[][] gPrior = new double[k][2];
    double[][] gTilted = new double[k][2];
    double c = beta * p * ra / ((width2 + beta * p) * (1 - a));
    for (int j = 0; j < k; j++) {
      double[] m = centres[j];
      double[] e = new double[2];
      double d2 = 0;
      double e2 = 0;
      for (int i = 0; i < 2; i++) {
        double d = x[i] - ra * m[i];
        d2 += d * d;
        gPrior[j][i] = -d / noisy;
        e[i] = p * (m[i] / var + ra * x[i] / (1 - a)) - mu0[i];
        e2 += e[i] * e[i];
      }
      prior[j] = logWeights[j] - d2 / (2 * noisy);
      tilted[j] = prior[j] + Math.log(width2 / (width2 + beta * p)) - beta * e2 / (2 * (width2 + beta * p));
      for (int i = 0; i < 2; i++) {
        gTilted[j][i] = gPrior[j][i] - c * e[i];
      }
    }
    double lt = logSumExp(tilted);
    double lp = logSumExp(prior);
    if (grad != null) {
      for (int j = 0; j < k; j++) {
        double st = Math.exp(tilted[j] - lt);
        double sp = Math.exp(prior[j] - lp);
        for (int i = 0; i < 2; i++) {
          grad[i] += st * gTilted[j][i] - sp * gPrior[j][i];
        }
      }
    }
    if (score != null) {
      for (int j = 0; j < k; j++) {
        double sp = Math.exp(prior[j] - lp);
        for (int i = 0; i < 2; i++) {
          score[i] += sp * gPrior[j][i];
        }
      }
    }
    return lt - lp;
  }

  private static double logSumExp(double[] v) {
    double max = java.util.Arrays.stream(v).max().orElseThrow();
    double s = 0;
    for (double x : v) {
      s += Math.exp(x - max);
    }
    return max + Math.log(s);
  }
}
