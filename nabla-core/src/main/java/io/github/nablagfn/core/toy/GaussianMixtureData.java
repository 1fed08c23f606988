package io.github.nablagfn.core.toy;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.train.DataSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** A mixture of isotropic Gaussians: pick mode k with probability w_k, then draw centre_k + std·z. */
public final class GaussianMixtureData implements DataSource {
  private final double[][] centres;
  private final double[] cumulative;
  private final double std;

  /**
   * @param centres K × d mode centres
   * @param weights K non-negative weights (normalised here)
   * @param std per-coordinate standard deviation of every mode
   */
  public GaussianMixtureData(double[][] centres, double[] weights, double std) {
    if (centres.length < 1 || weights.length != centres.length) {
      throw new IllegalArgumentException(centres.length + " centres but " + weights.length + " weights");
    }
    if (!(std > 0)) {
      throw new IllegalArgumentException("std = " + std + "; expected > 0");
    }
    double total = 0;
    for (double w : weights) {
      if (!(w >= 0)) {
        throw new IllegalArgumentException("mixture weight " + w + "; expected >= 0");
      }
      total += w;
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("mixture weights sum to " + total + "; expected > 0");
    }
    this.centres = new double[centres.length][];
    this.cumulative = new double[weights.length];
    double acc = 0;
    for (int k = 0; k < centres.length; k++) {
      if (centres[k].length != centres[0].length) {
        throw new IllegalArgumentException("centre " + k + " has " + centres[k].length + " coordinates; expected "
            + centres[0].length);
      }
      this.centres[k] = centres[k].clone();
      acc += weights[k] / total;
      cumulative[k] = acc;
    }
    this.std = std;
  }

  /** {@code modes} equally weighted modes evenly spaced on a circle of {@code radius} in 2-D. */
  public static GaussianMixtureData circle(int modes, double radius, double std) {
    double[][] c = new double[modes][];
    double[] w = new double[modes];
    for (int k = 0; k < modes; k++) {
      double a = 2 * Math.PI * k / modes;
      c[k] = new double[] {radius * Math.cos(a), radius * Math.sin(a)};
      w[k] = 1;
    }
    return new GaussianMixtureData(c, w, std);
  }

  /** Mode centres (copies). */
  public double[][] centres() {
    double[][] c = new double[centres.length][];
    for (int k = 0; k < c.length; k++) {
      c[k] = centres[k].clone();
    }
    return c;
  }

  /** The standard deviation σ of every mode (each is N(centre, σ² I)). */
  public double std() {
    return std;
  }

  /** The normalised weight of mode k. */
  public double weight(int k) {
    return cumulative[k] - (k == 0 ? 0 : cumulative[k - 1]);
  }

  /** Index of the centre nearest to point x. */
  public int nearestMode(double[] x) {
    int best = 0;
    double bestD = Double.POSITIVE_INFINITY;
    for (int k = 0; k < centres.length; k++) {
      double d = 0;
      for (int i = 0; i < x.length; i++) {
        double e = x[i] - centres[k][i];
        d += e * e;
      }
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    return best;
  }

  @Override
  public Batch next(Rng rng, int batchSize) {
    int d = centres[0].length;
    float[] out = new float[batchSize * d];
    for (int b = 0; b < batchSize; b++) {
      double u = rng.nextDouble();
      int k = 0;
      while (k < cumulative.length - 1 && u >= cumulative[k]) {
        k++;
      }
      for (int i = 0; i < d; i++) {
        out[b * d + i] = (float) (centres[k][i] + std * rng.nextGaussian());
      }
    }
    return new Batch(Nd4j.create(out, new long[] {batchSize, d}, DataType.FLOAT), null);
  }
}
