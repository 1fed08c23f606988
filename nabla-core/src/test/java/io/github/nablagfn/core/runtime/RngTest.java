package io.github.nablagfn.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

class RngTest {
  @Test
  void forksArePureFunctionsOfSeedPurposeAndIndex() {
    INDArray a = Rng.of(5).fork("sampling", 3).gaussian(4);
    Rng used = Rng.of(5);
    used.gaussian(100); // consuming the parent does not change its forks
    assertThat(used.fork("sampling", 3).gaussian(4)).isEqualTo(a);
    assertThat(Rng.of(5).fork("sampling", 4).gaussian(4)).isNotEqualTo(a);
    assertThat(Rng.of(5).fork("noise", 3).gaussian(4)).isNotEqualTo(a);
    assertThat(Rng.of(6).fork("sampling", 3).gaussian(4)).isNotEqualTo(a);
  }

  @Test
  void gaussiansHaveUnitMomentsWithinSampleSizeTolerance() {
    int n = 200_000;
    double[] v = Rng.of(1).gaussian(n).toDoubleVector();
    double mean = 0;
    double sq = 0;
    for (double x : v) {
      mean += x;
      sq += x * x;
    }
    mean /= n;
    double var = sq / n - mean * mean;
    assertThat(Math.abs(mean)).isLessThan(4 / Math.sqrt(n));
    assertThat(Math.abs(var - 1)).isLessThan(4 * Math.sqrt(2.0 / n));
  }
}
