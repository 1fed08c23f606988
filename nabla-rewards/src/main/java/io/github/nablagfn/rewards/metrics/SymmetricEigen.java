package io.github.nablagfn.rewards.metrics;

/** Cyclic Jacobi eigendecomposition of small symmetric matrices (double precision), and helpers. */
final class SymmetricEigen {
  private SymmetricEigen() {}

  /** Eigenvalues and eigenvectors (columns of v) of symmetric a: a = v diag(λ) vᵀ. */
  static double[][][] decompose(double[][] a) {
    int n = a.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = a[i].clone();
    }
    double[][] v = new double[n][n];
    for (int i = 0; i < n; i++) {
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      double norm = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          norm += m[i][j] * m[i][j];
          if (i != j) {
            off += m[i][j] * m[i][j];
          }
        }
      }
      if (off <= 1e-30 * Math.max(norm, 1e-300)) {
        break;
      }
      for (int p = 0; p < n - 1; p++) {
        for (int q = p + 1; q < n; q++) {
          if (m[p][q] == 0) {
            continue;
          }
          double theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int k = 0; k < n; k++) {
            double mkp = m[k][p];
            double mkq = m[k][q];
            m[k][p] = c * mkp - s * mkq;
            m[k][q] = s * mkp + c * mkq;
          }
          for (int k = 0; k < n; k++) {
            double mpk = m[p][k];
            double mqk = m[q][k];
            m[p][k] = c * mpk - s * mqk;
            m[q][k] = s * mpk + c * mqk;
          }
          for (int k = 0; k < n; k++) {
            double vkp = v[k][p];
            double vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
          }
        }
      }
    }
    double[][] lambda = new double[1][n];
    for (int i = 0; i < n; i++) {
      lambda[0][i] = m[i][i];
    }
    return new double[][][] {lambda, v};
  }

  static double[] eigenvalues(double[][] a) {
    return decompose(a)[0][0];
  }

  /** The PSD square root v diag(√max(λ, 0)) vᵀ of symmetric a. */
  static double[][] sqrt(double[][] a) {
    double[][][] e = decompose(symmetrize(a));
    double[] l = e[0][0];
    double[][] v = e[1];
    int n = a.length;
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int k = 0; k < n; k++) {
          s += v[i][k] * Math.sqrt(Math.max(l[k], 0)) * v[j][k];
        }
        r[i][j] = s;
      }
    }
    return r;
  }

  static double[][] symmetrize(double[][] a) {
    int n = a.length;
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        r[i][j] = 0.5 * (a[i][j] + a[j][i]);
      }
    }
    return r;
  }

  static double[][] multiply(double[][] a, double[][] b) {
    int n = a.length;
    int m = b[0].length;
    double[][] r = new double[n][m];
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < b.length; k++) {
        double aik = a[i][k];
        for (int j = 0; j < m; j++) {
          r[i][j] += aik * b[k][j];
        }
      }
    }
    return r;
  }
}
