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

  @Test
  void aRowWindowDrawsTheWholeBatchsNumbersForItsRows() {
    Rng whole = Rng.of(8).fork("iteration", 2);
    INDArray all = whole.fork("sampling", 0).gaussian(6, 3);
    Rng rows = whole.rows(2, 5, 6);
    assertThat(rows.fork("sampling", 0).gaussian(3, 3))
        .isEqualTo(all.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)));
    // consecutive draws stay aligned with the whole batch's
    Rng a = whole.fork("s", 1);
    a.gaussian(6, 3);
    INDArray second = a.gaussian(6, 3);
    Rng b = rows.fork("s", 1);
    b.gaussian(3, 3);
    assertThat(b.gaussian(3, 3)).isEqualTo(second.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)));
    // uniform draws too; scalar draws are batch-level
    assertThat(rows.fork("u", 0).uniform(-1, 1, 3, 2))
        .isEqualTo(whole.fork("u", 0).uniform(-1, 1, 6, 2).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 5)));
    assertThat(rows.fork("i", 0).nextInt(1000)).isEqualTo(whole.fork("i", 0).nextInt(1000));
    // the whole range is no window at all
    assertThat(whole.rows(0, 6, 6).fork("sampling", 0).gaussian(6, 3)).isEqualTo(all);
  }

  @Test
  void aRowWindowRefusesDrawsItCannotMatchToRows() {
    Rng rows = Rng.of(1).rows(1, 3, 4);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> rows.gaussian(4, 2))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("first dimension must be 2");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rng.of(1).rows(3, 3, 4))
        .hasMessageContaining("rows [3, 3) of a batch of 4");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Rng.of(1).rows(0, 5, 4))
        .hasMessageContaining("rows [0, 5) of a batch of 4");
  }
}
