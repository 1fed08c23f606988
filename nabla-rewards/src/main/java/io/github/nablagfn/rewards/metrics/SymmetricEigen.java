package io.github.nablagfn.rewards.metrics;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.eigen.Eigen;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Symmetric eigendecompositions for {@link Frechet}, in double precision, by the backend's LAPACK
 * ({@code dsyev} through ND4J's {@link Eigen#symmetricGeneralizedEigenvalues(INDArray, boolean)}), and the
 * matrix products around them.
 */
final class SymmetricEigen {
  private SymmetricEigen() {}

  /** Eigenvalues (ascending) and eigenvectors (columns of v) of symmetric a: a = v diag(λ) vᵀ. */
  private static INDArray[] decompose(double[][] a) {
    INDArray v = Nd4j.createFromArray(symmetrize(a)).dup('f'); // LAPACK's layout; overwritten by the vectors
    INDArray lambda = Eigen.symmetricGeneralizedEigenvalues(v, true);
    return new INDArray[] {lambda, v};
  }

  static double[] eigenvalues(double[][] a) {
    return decompose(a)[0].toDoubleVector();
  }

  /** The PSD square root v diag(√max(λ, 0)) vᵀ of symmetric a (negative eigenvalues from rounding → 0). */
  static double[][] sqrt(double[][] a) {
    INDArray[] e = decompose(a);
    double[] l = e[0].toDoubleVector();
    INDArray roots = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.DOUBLE, l.length, l.length);
    for (int k = 0; k < l.length; k++) {
      roots.putScalar(k, k, Math.sqrt(Math.max(l[k], 0)));
    }
    return e[1].mmul(roots).mmul(e[1].transpose()).toDoubleMatrix();
  }

  static double[][] symmetrize(double[][] a) {
    int n = a.length;
    double[][] r = new double[n][n];
    for (int i = 0; i < n; i++) {
      if (a[i].length != n) {
        throw new IllegalArgumentException("row " + i + " has " + a[i].length + " entries; expected a square "
            + n + "×" + n + " matrix");
      }
      for (int j = 0; j < n; j++) {
        r[i][j] = 0.5 * (a[i][j] + a[j][i]);
      }
    }
    return r;
  }

  static double[][] multiply(double[][] a, double[][] b) {
    return Nd4j.createFromArray(a).mmul(Nd4j.createFromArray(b)).toDoubleMatrix();
  }
}
