package io.github.nablagfn.core.sampler;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One reverse step x_t → x_s of a sampler as a Gaussian transition P_F(x_s | x_t) = N(μ, σ² I), with
 * every coefficient precomputed in double precision:
 * <pre>
 *   x̂0 = x0FromSample · x_t + x0FromOutput · out
 *   ε̂  = epsFromSample · x_t + epsFromOutput · out
 *   μ  = meanFromSample · x_t + meanFromOutput · out
 *   x_s = μ + σ z,  z ~ N(0, I)
 * </pre>
 * where {@code out} is the denoiser's raw output (ε, x0 or v, per {@link PredictionType}).
 *
 * @param index step index i (0 = first, noisiest step)
 * @param timestep t
 * @param prevTimestep s; negative on the final step, which goes to x_0
 * @param alphaCumprod ᾱ_t
 * @param alphaCumprodPrev ᾱ_s (the schedule's final ᾱ on the last step)
 * @param variance σ², the transition's variance
 */
public record GaussianStep(
    int index,
    int timestep,
    int prevTimestep,
    double alphaCumprod,
    double alphaCumprodPrev,
    double variance,
    double x0FromSample,
    double x0FromOutput,
    double epsFromSample,
    double epsFromOutput,
    double meanFromSample,
    double meanFromOutput) {

  /** σ, the standard deviation of the transition. */
  public double sigma() {
    return Math.sqrt(variance);
  }

  /** x̂0 (diffusers' {@code pred_original_sample}) from x_t and the model output. */
  public INDArray predOriginalSample(INDArray sample, INDArray output) {
    return sample.mul(x0FromSample).addi(output.mul(x0FromOutput));
  }

  /** ε̂, the noise implied by x_t and the model output. */
  public INDArray predEpsilon(INDArray sample, INDArray output) {
    return sample.mul(epsFromSample).addi(output.mul(epsFromOutput));
  }

  /** μ, the mean of P_F(x_s | x_t). */
  public INDArray mean(INDArray sample, INDArray output) {
    return sample.mul(meanFromSample).addi(output.mul(meanFromOutput));
  }

  /** x_s = μ + σ z for standard normal {@code noise} z of the sample's shape. */
  public INDArray step(INDArray sample, INDArray output, INDArray noise) {
    if (!java.util.Arrays.equals(sample.shape(), noise.shape())) {
      throw new IllegalArgumentException("noise shape " + java.util.Arrays.toString(noise.shape())
          + " differs from sample shape " + java.util.Arrays.toString(sample.shape()));
    }
    return mean(sample, output).addi(noise.mul(sigma()));
  }

  /** μ as SameDiff ops, differentiable in x_t and the model output. */
  public SDVariable meanOp(SDVariable sample, SDVariable output) {
    return sample.mul(meanFromSample).add(output.mul(meanFromOutput));
  }

  /** x̂0 as SameDiff ops. */
  public SDVariable predOriginalSampleOp(SDVariable sample, SDVariable output) {
    return sample.mul(x0FromSample).add(output.mul(x0FromOutput));
  }
}
