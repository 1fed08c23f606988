package io.github.nablagfn.rewards.metrics;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Fréchet distance between Gaussians fitted to two feature sets (FID when the features come from a
 * classifier's penultimate layer):
 * d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}).
 * The matrix square roots are taken of symmetric positive semi-definite matrices through LAPACK's
 * symmetric eigendecomposition ({@code dsyev}, via ND4J) in double precision (eigenvalues below zero from
 * rounding are clamped to zero), which avoids the complex square root of the non-symmetric product Σ₁Σ₂.
 */
public final class Frechet {
  private Frechet() {}

  /** FID of two feature sets (rows are samples), in double precision. */
  public static double distance(INDArray features1, INDArray features2) {
    if (features1.rank() != 2 || features2.rank() != 2 || features1.size(1) != features2.size(1)) {
      throw new IllegalArgumentException("feature sets of shapes " + java.util.Arrays.toString(features1.shape())
          + " and " + java.util.Arrays.toString(features2.shape()) + "; expected (n1, d) and (n2, d)");
    }
    if (features1.size(0) < 2 || features2.size(0) < 2) {
      throw new IllegalArgumentException("each feature set needs at least 2 samples for a covariance");
    }
    return distance(mean(features1), covariance(features1), mean(features2), covariance(features2));
  }

  /** The Fréchet distance between N(mu1, s1) and N(mu2, s2). */
  public static double distance(double[] mu1, double[][] s1, double[] mu2, double[][] s2) {
    int d = mu1.length;
    double mean = 0;
    for (int i = 0; i < d; i++) {
      double e = mu1[i] - mu2[i];
      mean += e * e;
    }
    double[][] root1 = SymmetricEigen.sqrt(s1);
    double[][] m = SymmetricEigen.multiply(SymmetricEigen.multiply(root1, s2), root1);
    double traceRoot = 0;
    for (double lambda : SymmetricEigen.eigenvalues(SymmetricEigen.symmetrize(m))) {
      traceRoot += Math.sqrt(Math.max(lambda, 0));
    }
    double trace = 0;
    for (int i = 0; i < d; i++) {
      trace += s1[i][i] + s2[i][i];
    }
    return Math.max(0.0, mean + trace - 2 * traceRoot);
  }

  static double[] mean(INDArray f) {
    return f.castTo(DataType.DOUBLE).mean(0).toDoubleVector();
  }

  /** Unbiased sample covariance of the rows. */
  static double[][] covariance(INDArray f) {
    INDArray x = f.castTo(DataType.DOUBLE);
    INDArray c = x.subRowVector(x.mean(0));
    return c.transpose().mmul(c).divi(x.size(0) - 1).toDoubleMatrix();
  }
}
