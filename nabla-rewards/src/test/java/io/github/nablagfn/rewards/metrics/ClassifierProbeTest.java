package io.github.nablagfn.rewards.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ClassifierProbeTest {
  /** log p from the probe equals the reward's value; the prediction is the arg-max over all classes. */
  @Test
  void probeAgreesWithTheRewardAndCountsAccuracyPerClass() throws IOException {
    Classifier clf = Classifier.create(1, 10, Rng.of(0)).load(TwinFixtures.dir().resolve("classifier.safetensors"));
    ClassifierReward reward = new ClassifierReward(clf);
    INDArray x = Rng.of(4).gaussian(7, 1, 32, 32);
    long[] labels = {0, 1, 2, 3, 3, 9, 9};
    ClassifierProbe.Result r = new ClassifierProbe(clf, 3).probe(x, labels); // 3 batches: 3, 3, 1 rows
    INDArray expected = reward.evaluate(x, Nd4j.createFromArray(labels));
    assertThat(r.features().shape()).containsExactly(7, 64);
    int[] argmax = new int[7];
    for (int i = 0; i < 7; i++) {
      assertThat(r.logProb()[i]).as("row %d", i).isCloseTo(expected.getDouble(i), within(1e-5));
      double best = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < 10; c++) {
        double v = reward.evaluate(x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup(), Nd4j.createFromArray((long) c)).getDouble(0);
        if (v > best) {
          best = v;
          argmax[i] = c;
        }
      }
    }
    assertThat(r.predicted()).containsExactly(argmax);
    int hits = 0;
    double[] perClass = new double[10];
    double[] count = new double[10];
    for (int i = 0; i < 7; i++) {
      boolean hit = argmax[i] == labels[i];
      hits += hit ? 1 : 0;
      count[(int) labels[i]]++;
      perClass[(int) labels[i]] += hit ? 1 : 0;
    }
    assertThat(r.accuracy(labels)).isEqualTo(hits / 7.0);
    double[] got = r.accuracyPerClass(labels, 10);
    for (int c = 0; c < 10; c++) {
      if (count[c] == 0) {
        assertThat(got[c]).isNaN();
      } else {
        assertThat(got[c]).isEqualTo(perClass[c] / count[c]);
      }
    }
    assertThatThrownBy(() -> new ClassifierProbe(clf, 3).probe(x, new long[] {1, 2}))
        .hasMessageContaining("7 images but 2 labels");
  }

  @Test
  void priorDriftIsZeroForTheSameSamplesAndGrowsWithTheShift() throws IOException {
    Classifier clf = Classifier.create(1, 10, Rng.of(0)).load(TwinFixtures.dir().resolve("classifier.safetensors"));
    ClassifierProbe probe = new ClassifierProbe(clf, 50);
    INDArray base = Rng.of(8).uniform(-1, 1, 120, 1, 32, 32);
    assertThat(probe.priorDrift(base, base.dup())).isCloseTo(0.0, within(1e-6));
    INDArray noise = Rng.of(9).gaussian(120, 1, 32, 32);
    double small = probe.priorDrift(base.add(noise.mul(0.2)), base);
    double large = probe.priorDrift(base.add(noise.mul(1.0)), base);
    assertThat(small).isPositive();
    assertThat(large).isGreaterThan(small);
    assertThat(probe.priorDrift(base, base.add(noise.mul(1.0)))).isCloseTo(large, within(1e-6 * large + 1e-9));
  }
}
