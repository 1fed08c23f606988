package io.github.nablagfn.core.schedule;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A discrete noise schedule of T steps (indices t = 0..T−1, as in diffusers):
 * β_t ∈ (0, 1), α_t = 1 − β_t, ᾱ_t = Π_{s≤t} α_s (diffusers' {@code alphas_cumprod}).
 *
 * <p>Tables are double precision: in float32, 1 − ᾱ_t near t = 0 loses about 1e-3 relative precision
 * and the final step's σ² depends on it. Cast to the model's type only when multiplying tensors.
 */
public final class NoiseSchedule {
  private final String name;
  private final double[] betas;
  private final double[] alphas;
  private final double[] alphasCumprod;

  private NoiseSchedule(String name, double[] betas) {
    if (betas.length < 1) {
      throw new IllegalArgumentException("noise schedule '" + name + "': T = 0; expected T >= 1");
    }
    for (int t = 0; t < betas.length; t++) {
      double b = betas[t];
      if (!(b > 0.0 && b < 1.0)) {
        throw new IllegalArgumentException("noise schedule '" + name + "': beta[" + t + "] = " + b
            + "; expected 0 < beta < 1");
      }
    }
    this.name = name;
    this.betas = betas.clone();
    this.alphas = new double[betas.length];
    this.alphasCumprod = new double[betas.length];
    double prod = 1.0;
    for (int t = 0; t < betas.length; t++) {
      alphas[t] = 1.0 - betas[t];
      prod *= alphas[t];
      alphasCumprod[t] = prod;
    }
  }

  /** A schedule from explicit betas (each in (0, 1)). */
  public static NoiseSchedule fromBetas(double[] betas) {
    return new NoiseSchedule("custom", betas);
  }

  /** β linearly spaced from {@code betaStart} to {@code betaEnd} over T steps (DDPM: 1e-4 .. 0.02, T = 1000). */
  public static NoiseSchedule linear(int numTrainTimesteps, double betaStart, double betaEnd) {
    checkSteps(numTrainTimesteps);
    return new NoiseSchedule("linear", linspace(betaStart, betaEnd, numTrainTimesteps));
  }

  /** The DDPM schedule used by the reference configuration: linear 1e-4 .. 0.02 over 1000 steps. */
  public static NoiseSchedule ddpmDefault() {
    return linear(1000, 1e-4, 0.02);
  }

  /** √β linearly spaced, then squared (Stable Diffusion's "scaled_linear"). */
  public static NoiseSchedule scaledLinear(int numTrainTimesteps, double betaStart, double betaEnd) {
    checkSteps(numTrainTimesteps);
    if (!(betaStart > 0 && betaEnd > 0)) {
      throw new IllegalArgumentException("scaled-linear schedule: betaStart = " + betaStart + ", betaEnd = "
          + betaEnd + "; expected both > 0");
    }
    double[] b = linspace(Math.sqrt(betaStart), Math.sqrt(betaEnd), numTrainTimesteps);
    for (int i = 0; i < b.length; i++) {
      b[i] *= b[i];
    }
    return new NoiseSchedule("scaled-linear", b);
  }

  /**
   * The cosine schedule of Nichol and Dhariwal (2021), diffusers' "squaredcos_cap_v2":
   * ᾱ(τ) = cos²((τ + s)/(1 + s) · π/2), β_t = min(1 − ᾱ((t+1)/T)/ᾱ(t/T), maxBeta), s = 0.008, maxBeta = 0.999.
   */
  public static NoiseSchedule cosine(int numTrainTimesteps) {
    checkSteps(numTrainTimesteps);
    double[] b = new double[numTrainTimesteps];
    for (int t = 0; t < numTrainTimesteps; t++) {
      double a1 = cosineAlphaBar((double) t / numTrainTimesteps);
      double a2 = cosineAlphaBar((double) (t + 1) / numTrainTimesteps);
      b[t] = Math.min(1.0 - a2 / a1, 0.999);
    }
    return new NoiseSchedule("cosine", b);
  }

  private static double cosineAlphaBar(double tau) {
    double c = Math.cos((tau + 0.008) / 1.008 * Math.PI / 2);
    return c * c;
  }

  private static void checkSteps(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("numTrainTimesteps = " + n + "; expected T >= 1");
    }
  }

  private static double[] linspace(double a, double b, int n) {
    double[] v = new double[n];
    if (n == 1) {
      v[0] = a;
      return v;
    }
    for (int i = 0; i < n; i++) {
      v[i] = a + (b - a) * i / (n - 1);
    }
    return v;
  }

  /** Schedule kind ("linear", "scaled-linear", "cosine", "custom"). */
  public String name() {
    return name;
  }

  /** T, the number of training timesteps. */
  public int numTrainTimesteps() {
    return betas.length;
  }

  /** β_t for t = 0..T−1 (a copy). */
  public double[] betas() {
    return betas.clone();
  }

  /** α_t = 1 − β_t (a copy). */
  public double[] alphas() {
    return alphas.clone();
  }

  /** ᾱ_t = Π_{s≤t} α_s (a copy). */
  public double[] alphasCumprod() {
    return alphasCumprod.clone();
  }

  /** ᾱ_t for one timestep t ∈ [0, T). */
  public double alphaCumprod(int t) {
    if (t < 0 || t >= alphasCumprod.length) {
      throw new IllegalArgumentException("timestep " + t + " outside [0, " + alphasCumprod.length + ")");
    }
    return alphasCumprod[t];
  }

  /**
   * Forward noising q(x_t | x_0): x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε, one timestep per row of the batch.
   *
   * @param original x_0, shape [B, ...]
   * @param noise ε, same shape
   * @param timesteps t per row, length B
   */
  public INDArray addNoise(INDArray original, INDArray noise, int[] timesteps) {
    requireBatch("addNoise", original, noise, timesteps);
    double[] a = new double[timesteps.length];
    double[] b = new double[timesteps.length];
    for (int i = 0; i < timesteps.length; i++) {
      double abar = alphaCumprod(timesteps[i]);
      a[i] = Math.sqrt(abar);
      b[i] = Math.sqrt(1.0 - abar);
    }
    return scaleRows(original, a).addi(scaleRows(noise, b));
  }

  /** Multiplies row i of {@code x} (shape [B, ...]) by {@code c[i]}, in x's data type; returns a new array. */
  public static INDArray scaleRows(INDArray x, double[] c) {
    long[] colShape = new long[x.rank()];
    Arrays.fill(colShape, 1);
    colShape[0] = c.length;
    INDArray col = Nd4j.createFromArray(c).castTo(x.dataType()).reshape(colShape);
    return x.mul(col);
  }

  static void requireBatch(String op, INDArray a, INDArray b, int[] timesteps) {
    if (!Arrays.equals(a.shape(), b.shape())) {
      throw new IllegalArgumentException(op + ": shapes " + Arrays.toString(a.shape()) + " and "
          + Arrays.toString(b.shape()) + " differ");
    }
    if (a.rank() < 1 || a.size(0) != timesteps.length) {
      throw new IllegalArgumentException(op + ": batch of " + (a.rank() < 1 ? 0 : a.size(0)) + " rows but "
          + timesteps.length + " timesteps");
    }
  }

  @Override
  public String toString() {
    return "NoiseSchedule[" + name + ", T=" + betas.length + "]";
  }
}
