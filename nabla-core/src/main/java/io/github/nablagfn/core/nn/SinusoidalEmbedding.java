package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017; DDPM): with half = dim/2 and
 * f_i = exp(−ln(10000)·i/half), i = 0..half−1, the embedding is [sin(t·f_0..), cos(t·f_0..)] (sines first).
 *
 * <p>Computed in double precision and then cast to float32: t·f up to 981 in float32 loses about
 * 6e-5 absolute, above the twin's tolerance.
 */
public final class SinusoidalEmbedding {
  private SinusoidalEmbedding() {}

  /** The frequencies f_i (double). */
  public static double[] frequencies(int dim) {
    if (dim < 2 || dim % 2 != 0) {
      throw new IllegalArgumentException("embedding dim = " + dim + "; expected an even number >= 2");
    }
    int half = dim / 2;
    double[] f = new double[half];
    for (int i = 0; i < half; i++) {
      f[i] = Math.exp(-Math.log(10000.0) * i / half);
    }
    return f;
  }

  /**
   * @param timesteps t, shape (B), any floating type (cast to double inside)
   * @return (B, dim) float32
   */
  public static SDVariable forward(SameDiff sd, SDVariable timesteps, int dim) {
    double[] f = frequencies(dim);
    SDVariable freqs = sd.constant(Nd4j.createFromArray(f).reshape(1, f.length));
    SDVariable args = timesteps.castTo(DataType.DOUBLE).reshape(-1, 1).mul(freqs); // (B, half)
    return sd.concat(1, sd.math().sin(args), sd.math().cos(args)).castTo(DataType.FLOAT);
  }
}
