package io.github.nablagfn.rewards.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DiversityTest {
  @Test
  void diversityOfIdenticalSamplesIsZeroAndGrowsWithNoise() {
    INDArray base = Rng.of(5).gaussian(1, 16).castTo(DataType.DOUBLE);
    INDArray same = Nd4j.repeat(base, 20).reshape(20, 16);
    assertThat(Diversity.meanPairwiseCosineDistance(same)).isCloseTo(0, within(1e-12));
    double previous = 0;
    for (double noise : new double[] {0.05, 0.2, 0.8}) {
      INDArray x = same.add(Rng.of(6).gaussian(20, 16).castTo(DataType.DOUBLE).muli(noise));
      double d = Diversity.meanPairwiseCosineDistance(x);
      assertThat(d).as("noise %s", noise).isGreaterThan(previous);
      previous = d;
    }
  }

  @Test
  void orthogonalFeaturesHaveDistanceOne() {
    INDArray eye = Nd4j.eye(4).castTo(DataType.DOUBLE);
    assertThat(Diversity.meanPairwiseCosineDistance(eye)).isCloseTo(1.0, within(1e-12));
    assertThatThrownBy(() -> Diversity.meanPairwiseCosineDistance(Nd4j.zeros(1, 3))).hasMessageContaining("n >= 2");
  }
}
