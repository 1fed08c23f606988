package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.Sampler;

/**
 * Exact moments of a sampler's discrete chain for Gaussian data N(m, S) with the exact ε-predictor
 * E[ε | x_t] = √(1−ᾱ) C⁻¹ (x_t − √ᾱ m), C = ᾱS + (1−ᾱ)I. Every step is then affine in x_t plus
 * Gaussian noise, so mean and covariance propagate in closed form from x_T ~ N(0, I):
 * μ_s = A μ_t + b, Σ_s = A Σ_t Aᵀ + σ² I. This is the truth a finite-step sampler is measured against
 * (a 50-step η = 1 chain under-disperses: variance 0.414 instead of 0.5 in 1-D, computed here).
 */
public final class GaussianChain {
  private GaussianChain() {}

  /** Returns {mean (d), covariance (d×d)} flattened as double[2][]: [0] = mean, [1] = row-major covariance. */
  public static double[][] moments(Sampler sampler, double[] m, double[][] s) {
    // With the exact predictor every prediction type gives the same chain; use the ε form.
    Sampler eps = sampler.withPrediction(io.github.nablagfn.core.sampler.PredictionType.EPSILON);
    int d = m.length;
    double[] mu = new double[d];
    double[][] cov = identity(d);
    for (int i = 0; i < eps.numSteps(); i++) {
      GaussianStep st = eps.step(i);
      double a = st.alphaCumprod();
      double[][] c = new double[d][d];
      for (int r = 0; r < d; r++) {
        for (int q = 0; q < d; q++) {
          c[r][q] = a * s[r][q] + (r == q ? 1 - a : 0);
        }
      }
      double[][] k = scale(inverse(c), Math.sqrt(1 - a)); // ε̂ = K (x − √ᾱ m)
      // x_s = mx·x + mo·ε̂ + σ z = (mx I + mo K) x − mo K √ᾱ m + σ z
      double[][] A = add(scale(identity(d), st.meanFromSample()), scale(k, st.meanFromOutput()));
      double[] km = mul(k, m);
      double[] newMu = mul(A, mu);
      for (int r = 0; r < d; r++) {
        newMu[r] -= st.meanFromOutput() * Math.sqrt(a) * km[r];
      }
      double[][] newCov = mul(mul(A, cov), transpose(A));
      for (int r = 0; r < d; r++) {
        newCov[r][r] += st.variance();
      }
      mu = newMu;
      cov = newCov;
    }
    return new double[][] {mu, flatten(cov)};
  }

  public static double[][] unflatten(double[] flat, int d) {
    double[][] c = new double[d][d];
    for (int r = 0; r < d; r++) {
      System.arraycopy(flat, r * d, c[r], 0, d);
    }
    return c;
  }

  private static double[] flatten(double[][] a) {
    int d = a.length;
    double[] f = new double[d * d];
    for (int r = 0; r < d; r++) {
      System.arraycopy(a[r], 0, f, r * d, d);
    }
    return f;
  }

  private static double[][] identity(int d) {
    double[][] e = new double[d][d];
    for (int i = 0; i < d; i++) {
      e[i][i] = 1;
    }
    return e;
  }

  private static double[][] scale(double[][] a, double f) {
    double[][] r = new double[a.length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        r[i][j] = a[i][j] * f;
      }
    }
    return r;
  }

  private static double[][] add(double[][] a, double[][] b) {
    double[][] r = new double[a.length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        r[i][j] = a[i][j] + b[i][j];
      }
    }
    return r;
  }

  private static double[][] mul(double[][] a, double[][] b) {
    int d = a.length;
    double[][] r = new double[d][d];
    for (int i = 0; i < d; i++) {
      for (int j = 0; j < d; j++) {
        for (int k = 0; k < d; k++) {
          r[i][j] += a[i][k] * b[k][j];
        }
      }
    }
    return r;
  }

  private static double[] mul(double[][] a, double[] v) {
    double[] r = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      for (int k = 0; k < v.length; k++) {
        r[i] += a[i][k] * v[k];
      }
    }
    return r;
  }

  private static double[][] transpose(double[][] a) {
    double[][] r = new double[a.length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a.length; j++) {
        r[j][i] = a[i][j];
      }
    }
    return r;
  }

  /** Gauss–Jordan inverse with partial pivoting (small symmetric positive definite matrices). */
  private static double[][] inverse(double[][] a) {
    int d = a.length;
    double[][] m = new double[d][2 * d];
    for (int i = 0; i < d; i++) {
      System.arraycopy(a[i], 0, m[i], 0, d);
      m[i][d + i] = 1;
    }
    for (int col = 0; col < d; col++) {
      int piv = col;
      for (int r = col + 1; r < d; r++) {
        if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
          piv = r;
        }
      }
      double[] tmp = m[col];
      m[col] = m[piv];
      m[piv] = tmp;
      double p = m[col][col];
      for (int j = 0; j < 2 * d; j++) {
        m[col][j] /= p;
      }
      for (int r = 0; r < d; r++) {
        if (r != col) {
          double f = m[r][col];
          for (int j = 0; j < 2 * d; j++) {
            m[r][j] -= f * m[col][j];
          }
        }
      }
    }
    double[][] inv = new double[d][d];
    for (int i = 0; i < d; i++) {
      System.arraycopy(m[i], d, inv[i], 0, d);
    }
    return inv;
  }
}
