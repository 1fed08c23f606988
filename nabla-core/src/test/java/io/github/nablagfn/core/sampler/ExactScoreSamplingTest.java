package io.github.nablagfn.core.sampler;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.GaussianChain;
import io.github.nablagfn.core.testing.SampleStats;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * With the exact ε-predictor of Gaussian data, every sampler must reproduce the data distribution:
 * for x0 ~ N(m, S), x_t ~ N(√ᾱ m, ᾱS + (1−ᾱ)I) and E[ε | x_t] = √(1−ᾱ) (ᾱS + (1−ᾱ)I)⁻¹ (x_t − √ᾱ m).
 * Isolates the sampler from any network error.
 */
class ExactScoreSamplingTest {
  private static final double[] M = {1.0, -0.5};
  private static final double[][] S = {{0.5, 0.2}, {0.2, 0.3}};
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();

  static INDArray exactEps(INDArray x, int[] t) {
    int n = (int) x.size(0);
    float[] out = new float[n * 2];
    for (int i = 0; i < n; i++) {
      double a = SCHEDULE.alphaCumprod(t[i]);
      double c00 = a * S[0][0] + 1 - a;
      double c01 = a * S[0][1];
      double c11 = a * S[1][1] + 1 - a;
      double det = c00 * c11 - c01 * c01;
      double d0 = x.getDouble(i, 0) - Math.sqrt(a) * M[0];
      double d1 = x.getDouble(i, 1) - Math.sqrt(a) * M[1];
      double s = Math.sqrt(1 - a);
      out[2 * i] = (float) (s * (c11 * d0 - c01 * d1) / det);
      out[2 * i + 1] = (float) (s * (-c01 * d0 + c00 * d1) / det);
    }
    return Nd4j.create(out, new long[] {n, 2}, DataType.FLOAT);
  }

  static Stream<Arguments> samplers() {
    return Stream.of(
        Arguments.of("DDIM eta=1", Ddim.of(SCHEDULE, 50)),
        Arguments.of("DDIM eta=0", Ddim.of(SCHEDULE, 50).eta(0)),
        Arguments.of("DDPM", Ddpm.of(SCHEDULE, 50)),
        Arguments.of("SDE-DPM-Solver++", SdeDpmSolverPP.of(SCHEDULE, 50)),
        Arguments.of("DDIM trailing eta=1", Ddim.of(SCHEDULE, 50).withSpacing(TimestepSpacing.TRAILING)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("samplers")
  void samplerWithTheExactScoreReproducesTheGaussian(String name, Sampler sampler) {
    int n = 20000;
    INDArray x = sampler.sample((xt, t, c) -> exactEps(xt, t), Rng.of(1).gaussian(n, 2), null, Rng.of(2));
    double[][] chain = GaussianChain.moments(sampler, M, S);
    SampleStats.assertGaussianMoments(name, x, chain[0], GaussianChain.unflatten(chain[1], 2), 0.0);
  }

  @org.junit.jupiter.api.Test
  void theFiftyStepChainUnderDispersesAndAThousandStepsRecoversTheData() {
    // The finite-step bias the moment tests account for, and its vanishing with more steps.
    double[][] c50 = GaussianChain.moments(Ddim.of(SCHEDULE, 50), M, S);
    assertThat(c50[1][0]).isBetween(0.40, 0.43); // 0.5 in the data
    Sampler full = Ddim.create(new Sampler.Settings(SCHEDULE, 1000, TimestepSpacing.TRAILING, 0,
        PredictionType.EPSILON, true), 1.0);
    double[][] c1000 = GaussianChain.moments(full, M, S);
    assertThat(c1000[0][0]).isCloseTo(M[0], org.assertj.core.api.Assertions.within(1e-3));
    assertThat(c1000[1][0]).isCloseTo(S[0][0], org.assertj.core.api.Assertions.within(0.01));
    assertThat(c1000[1][1]).isCloseTo(S[0][1], org.assertj.core.api.Assertions.within(0.01));
  }
}
