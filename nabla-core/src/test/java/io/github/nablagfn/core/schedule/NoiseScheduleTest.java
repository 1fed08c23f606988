package io.github.nablagfn.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;

import io.github.nablagfn.core.runtime.Rng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NoiseScheduleTest {

  private static void assertAlphaBarStrictlyDecreasingInUnitInterval(NoiseSchedule s) {
    double[] abar = s.alphasCumprod();
    for (int t = 0; t < abar.length; t++) {
      assertThat(abar[t]).as("abar[%d] of %s", t, s).isGreaterThan(0.0).isLessThan(1.0);
      if (t > 0) {
        assertThat(abar[t]).as("abar[%d] < abar[%d] of %s", t, t - 1, s).isLessThan(abar[t - 1]);
      }
    }
  }

  @Test
  void alphaBarIsStrictlyDecreasingInTheUnitIntervalForEveryKind() {
    qt().withFixedSeed(1).withExamples(40)
        .forAll(integers().between(1, 2000), doubles().between(1e-5, 1e-3), doubles().between(1e-3, 0.05))
        .checkAssert((steps, start, end) -> {
          assertAlphaBarStrictlyDecreasingInUnitInterval(NoiseSchedule.linear(steps, start, end));
          assertAlphaBarStrictlyDecreasingInUnitInterval(NoiseSchedule.scaledLinear(steps, start, end));
          assertAlphaBarStrictlyDecreasingInUnitInterval(NoiseSchedule.cosine(Math.max(steps, 2)));
        });
  }

  @Test
  void linearMatchesItsDefinition() {
    NoiseSchedule s = NoiseSchedule.linear(1000, 1e-4, 0.02);
    double[] b = s.betas();
    assertThat(b[0]).isEqualTo(1e-4);
    assertThat(b[999]).isCloseTo(0.02, within(1e-15));
    assertThat(b[500]).isCloseTo(1e-4 + (0.02 - 1e-4) * 500 / 999, within(1e-15));
    double prod = 1;
    for (int t = 0; t <= 10; t++) {
      prod *= 1 - b[t];
    }
    assertThat(s.alphaCumprod(10)).isCloseTo(prod, within(1e-15));
    assertThat(s.alphas()[3]).isEqualTo(1 - b[3]);
  }

  @Test
  void scaledLinearSquaresALinearRamp() {
    double[] b = NoiseSchedule.scaledLinear(1000, 0.00085, 0.012).betas();
    assertThat(Math.sqrt(b[0])).isCloseTo(Math.sqrt(0.00085), within(1e-15));
    assertThat(Math.sqrt(b[999])).isCloseTo(Math.sqrt(0.012), within(1e-15));
    assertThat(Math.sqrt(b[1]) - Math.sqrt(b[0])).isCloseTo(Math.sqrt(b[999]) - Math.sqrt(b[998]), within(1e-12));
  }

  @Test
  void cosineAlphaBarFollowsTheSquaredCosine() {
    int T = 1000;
    NoiseSchedule s = NoiseSchedule.cosine(T);
    double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
    for (int t : new int[] {0, 100, 500, 900}) {
      double expected = Math.pow(Math.cos(((t + 1.0) / T + 0.008) / 1.008 * Math.PI / 2), 2) / f0;
      assertThat(s.alphaCumprod(t)).as("t=%d", t).isCloseTo(expected, within(1e-12));
    }
    assertThat(s.betas()[T - 1]).isEqualTo(0.999);
  }

  @Test
  void invalidSchedulesAreRejectedNamingTheProblem() {
    assertThatThrownBy(() -> NoiseSchedule.linear(0, 1e-4, 0.02)).hasMessageContaining("numTrainTimesteps = 0");
    assertThatThrownBy(() -> NoiseSchedule.linear(10, 0.0, 0.02)).hasMessageContaining("beta[0] = 0.0");
    assertThatThrownBy(() -> NoiseSchedule.linear(10, 0.1, 1.5)).hasMessageContaining("expected 0 < beta < 1");
    assertThatThrownBy(() -> NoiseSchedule.fromBetas(new double[] {0.1, Double.NaN}))
        .hasMessageContaining("beta[1] = NaN");
    assertThatThrownBy(() -> NoiseSchedule.ddpmDefault().alphaCumprod(1000)).hasMessageContaining("timestep 1000");
  }

  @Test
  void addNoiseAppliesPerRowCoefficients() {
    NoiseSchedule s = NoiseSchedule.ddpmDefault();
    Rng rng = Rng.of(3);
    INDArray x0 = rng.gaussian(3, 2);
    INDArray eps = rng.gaussian(3, 2);
    int[] t = {0, 499, 999};
    INDArray xt = s.addNoise(x0, eps, t);
    for (int i = 0; i < 3; i++) {
      double a = s.alphaCumprod(t[i]);
      for (int j = 0; j < 2; j++) {
        double expected = Math.sqrt(a) * x0.getDouble(i, j) + Math.sqrt(1 - a) * eps.getDouble(i, j);
        assertThat(xt.getDouble(i, j)).isCloseTo(expected, within(1e-6));
      }
    }
    assertThatThrownBy(() -> s.addNoise(x0, Nd4j.zeros(3, 3), t)).hasMessageContaining("shapes [3, 2] and [3, 3] differ");
    assertThatThrownBy(() -> s.addNoise(x0, eps, new int[] {1})).hasMessageContaining("batch of 3 rows but 1 timesteps");
  }
}
