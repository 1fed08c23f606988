package io.github.nablagfn.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Moment checks with tolerances derived from the sample size. For n i.i.d. samples of N(m, S):
 * SE(mean_i) = √(S_ii/n) and SE(cov_ij) = √((S_ii S_jj + S_ij²)/(n−1)). A check passes within
 * {@value #Z} standard errors (a false alarm about 1 in 15 000 per quantity under the null) plus an
 * optional bias allowance stated by the caller as a fraction of the quantity's scale.
 */
public final class SampleStats {
  /** Standard errors allowed. */
  public static final double Z = 4.0;

  private SampleStats() {}

  /** Sample mean of the rows of x (n, d), in double. */
  public static double[] mean(INDArray x) {
    return x.castTo(DataType.DOUBLE).mean(0).toDoubleVector();
  }

  /** Unbiased sample covariance of the rows of x (n, d), in double. */
  public static double[][] cov(INDArray x) {
    INDArray xd = x.castTo(DataType.DOUBLE);
    long n = xd.size(0);
    INDArray c = xd.subRowVector(xd.mean(0));
    return c.transpose().mmul(c).divi(n - 1).toDoubleMatrix();
  }

  /**
   * Asserts the sample mean and covariance of x match N(m, S) within Z standard errors plus
   * {@code bias} · (scale of the quantity: √S_ii for means, √(S_ii S_jj) for covariances).
   */
  public static void assertGaussianMoments(String what, INDArray x, double[] m, double[][] s, double bias) {
    long n = x.size(0);
    double[] mean = mean(x);
    double[][] cov = cov(x);
    for (int i = 0; i < m.length; i++) {
      double se = Math.sqrt(s[i][i] / n);
      assertThat(mean[i]).as("%s: mean[%d] (n = %d, SE %.4f)", what, i, n, se)
          .isBetween(m[i] - Z * se - bias * Math.sqrt(s[i][i]), m[i] + Z * se + bias * Math.sqrt(s[i][i]));
      for (int j = 0; j < m.length; j++) {
        double seC = Math.sqrt((s[i][i] * s[j][j] + s[i][j] * s[i][j]) / (n - 1));
        double allow = Z * seC + bias * Math.sqrt(s[i][i] * s[j][j]);
        assertThat(cov[i][j]).as("%s: cov[%d][%d] (n = %d, SE %.4f)", what, i, j, n, seC)
            .isBetween(s[i][j] - allow, s[i][j] + allow);
      }
    }
  }
}
