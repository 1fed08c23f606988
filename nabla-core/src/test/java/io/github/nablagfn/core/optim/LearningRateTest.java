package io.github.nablagfn.core.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LearningRateTest {
  @Test
  void warmupRisesLinearlyThenHolds() {
    LearningRate lr = LearningRate.warmup(1e-3, 4);
    assertThat(lr.at(0)).isCloseTo(0.25e-3, within(1e-15));
    assertThat(lr.at(3)).isCloseTo(1e-3, within(1e-15));
    assertThat(lr.at(4)).isEqualTo(1e-3);
    assertThat(lr.at(1_000_000)).isEqualTo(1e-3);
    assertThat(LearningRate.warmup(2e-4, 0).at(0)).isEqualTo(2e-4);
    assertThatThrownBy(() -> LearningRate.warmup(1e-3, -1)).hasMessageContaining("warm-up = -1");
    assertThatThrownBy(() -> LearningRate.warmup(0, 10)).hasMessageContaining("learning rate = 0.0");
  }

  @Test
  void cosineEndsAtTheFloor() {
    LearningRate lr = LearningRate.cosine(1e-3, 10, 110, 0.1);
    assertThat(lr.at(9)).isCloseTo(1e-3, within(1e-15));
    assertThat(lr.at(60)).isCloseTo(1e-3 * (0.1 + 0.9 * 0.5), within(1e-12)); // half-way: cos(π/2) = 0
    assertThat(lr.at(110)).isCloseTo(1e-4, within(1e-15));
    assertThat(lr.at(500)).isCloseTo(1e-4, within(1e-15));
  }
}
