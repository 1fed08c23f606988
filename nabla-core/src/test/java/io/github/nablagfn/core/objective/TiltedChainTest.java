package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.sampler.TimestepSpacing;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.GaussianChain;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The finite-chain truth used by the end-to-end toy test. For the exact prior N(m, sI) every DDIM (η = 1)
 * step is affine, x_s = A_i x_t + b_i + σ_i z, so under the reference chain x_0 given x_t is Gaussian with
 * a mean linear in x_t and the chain's own residual log-flow for R = aᵀx is f(t_i)·a with
 * f(t_i) = A_i f(t_{i+1}), f(x_0) = β. That recursion reproduces c_t = β s √ᾱ_t/(ᾱ_t s + 1 − ᾱ_t) of
 * docs/design.md §4.6 up to the constant factor β/c(ᾱ_0) (ᾱ_0 < 1 at the last step), and the tilted chain
 * N(μ + βΣa, Σ) tends to the continuous target N(m + βsa, sI) as the number of steps grows.
 */
class TiltedChainTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final double S = 0.5;
  private static final double BETA = 2.8284271247461903;

  private static double c(double abar) {
    return BETA * S * Math.sqrt(abar) / (abar * S + 1 - abar);
  }

  @ParameterizedTest(name = "{0} steps")
  @ValueSource(ints = {10, 50, 200})
  void theChainsResidualFlowIsCtUpToTheFinalAlphaBar(int steps) {
    Sampler sampler = Ddim.of(SCHEDULE, steps);
    double f = BETA;
    double factor = BETA / c(SCHEDULE.alphaCumprod(0));
    for (int i = steps - 1; i >= 0; i--) {
      GaussianStep st = sampler.step(i);
      double ab = st.alphaCumprod();
      f *= st.meanFromSample() + st.meanFromOutput() * Math.sqrt(1 - ab) / (ab * S + 1 - ab);
      assertThat(f).as("f at step %d (t = %d)", i, st.timestep()).isCloseTo(c(ab) * factor, within(1e-9 * f + 1e-12));
    }
    assertThat(factor).isCloseTo(1.0, within(3e-4));
  }

  @Test
  void theTiltedChainTendsToTheContinuousTarget() {
    double[] m = {0.3, -0.2};
    double[] a = {0.6, 0.8};
    double previous = Double.POSITIVE_INFINITY;
    for (int steps : new int[] {10, 50, 200, 1000}) {
      Sampler sampler = Ddim.create(new Sampler.Settings(SCHEDULE, steps, TimestepSpacing.TRAILING, 0,
          PredictionType.EPSILON, false), 1.0);
      double[][] ref = GaussianChain.moments(sampler, m, new double[][] {{S, 0}, {0, S}});
      double[][] cov = GaussianChain.unflatten(ref[1], 2);
      double error = 0;
      for (int i = 0; i < 2; i++) {
        double mean = ref[0][i] + BETA * (cov[i][0] * a[0] + cov[i][1] * a[1]);
        error = Math.max(error, Math.abs(mean - (m[i] + BETA * S * a[i])));
        error = Math.max(error, Math.abs(cov[i][i] - S));
      }
      assertThat(error).as("largest error of the tilted %d-step chain", steps).isLessThan(previous);
      previous = error;
    }
    assertThat(previous).as("1000 steps").isLessThan(0.02 * BETA * S);
  }
}
