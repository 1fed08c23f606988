package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import org.junit.jupiter.api.Test;

/** The forward residual's weights on the default 50-step DDIM chain (η = 1). */
class ForwardWeightingTest {
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 50);

  private static double sensitivity(GaussianStep st) {
    return Math.abs(st.meanFromOutput()) / st.variance(); // ∂ score_pf / ∂ output, per element
  }

  @Test
  void aCappedStepCountsAsMuchAsAStepOfTheCapsSensitivity() {
    double kappa = 5;
    ForwardWeighting capped = ForwardWeighting.capped(kappa);
    int cappedSteps = 0;
    for (int i = 0; i < SAMPLER.numSteps(); i++) {
      GaussianStep st = SAMPLER.step(i);
      double s = sensitivity(st);
      double w = capped.weight(st.meanFromOutput(), 1 / st.variance());
      // in output units a row's squared residual counts s²·w = min(s², κ²)
      assertThat(s * s * w).as("step %d (s = %.3f)", i, s).isCloseTo(Math.min(s * s, kappa * kappa), within(1e-9 * s * s));
      assertThat(ForwardWeighting.score().weight(st.meanFromOutput(), 1 / st.variance())).isEqualTo(1.0);
      cappedSteps += s > kappa ? 1 : 0;
    }
    // what the setting corrects: the last steps are far more sensitive than the rest of the chain
    double early = sensitivity(SAMPLER.step(10));
    double last = sensitivity(SAMPLER.step(SAMPLER.numSteps() - 1));
    assertThat(last / early).isGreaterThan(50);
    assertThat(cappedSteps).as("steps above κ = 5 on this chain").isBetween(1, 10);
  }

  @Test
  void scoreUnitsAreTheDefaultAndTheCapMustBePositive() {
    assertThat(Objectives.residualNablaDb().forwardWeighting().isScore()).isTrue();
    assertThat(Objectives.residualNablaDb().settings()).doesNotContainKey("forwardWeighting");
    assertThat(Objectives.residualNablaDb().forwardWeighting(ForwardWeighting.capped(3)).settings())
        .containsEntry("forwardWeighting", "capped(3.0)");
    assertThatThrownBy(() -> ForwardWeighting.capped(0)).hasMessageContaining("forwardWeighting.maxSensitivity = 0.0");
    assertThatThrownBy(() -> ForwardWeighting.capped(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
  }
}
