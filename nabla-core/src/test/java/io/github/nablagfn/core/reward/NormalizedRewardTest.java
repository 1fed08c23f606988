package io.github.nablagfn.core.reward;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NormalizedRewardTest {
  @Test
  void statisticsFollowTheObservedBatchesAndTheGraphSeesThem() {
    LinearReward lin = new LinearReward(new double[] {2, 0});
    NormalizedReward r = (NormalizedReward) lin.normalized(0.5);
    INDArray x = Nd4j.createFromArray(new float[][] {{1, 0}, {2, 5}, {3, -1}, {6, 0}}); // R = 2, 4, 6, 12
    // before any observation: identity
    assertThat(r.evaluate(x, null).toDoubleVector()).containsExactly(2, 4, 6, 12);
    r.observe(r.evaluate(x, null)); // first batch: μ = 6, σ² = (16 + 4 + 0 + 36)/4 = 14
    assertThat(r.mean()).isCloseTo(6, within(1e-6));
    assertThat(r.std()).isCloseTo(Math.sqrt(14), within(1e-5));
    double[] z = r.evaluate(x, null).toDoubleVector(); // the same (cached) graph sees the new statistics
    assertThat(z[0]).isCloseTo((2 - 6) / Math.sqrt(14), within(1e-5));
    assertThat(z[3]).isCloseTo((12 - 6) / Math.sqrt(14), within(1e-5));
    // second batch R = 0, 0, 0, 0 (x = 0): μ ← 0.5·6 + 0.5·0 = 3, σ² ← 0.5·14 + 0.5·0 = 7
    INDArray zero = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 2);
    r.observe(r.evaluate(zero, null));
    assertThat(r.mean()).isCloseTo(3, within(1e-5));
    assertThat(r.std()).isCloseTo(Math.sqrt(7), within(1e-5));
    // scaling keeps the statistics and the hook
    Reward scaled = r.scaled(3.0);
    assertThat(scaled.state()).containsKeys("mean", "std", "count");
    assertThat(scaled.evaluate(x, null).getDouble(0)).isCloseTo((2 - 3) / Math.sqrt(7), within(1e-5));
    assertThatThrownBy(() -> lin.normalized(1.0)).hasMessageContaining("momentum = 1.0");
  }

  @Test
  void aConstantRewardDoesNotDivideByZero() {
    NormalizedReward r = (NormalizedReward) new LinearReward(new double[] {0, 0}).normalized(0.9);
    INDArray x = Rng.of(1).gaussian(5, 2);
    r.observe(r.evaluate(x, null));
    assertThat(r.std()).isPositive();
    assertThat(r.evaluate(x, null).toDoubleVector()).containsOnly(0.0);
  }
}
