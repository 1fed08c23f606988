package io.github.nablagfn.rewards.classifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ClassifierRewardTest {
  @TempDir Path dir;

  private static Classifier twin() throws IOException {
    return Classifier.create(1, 10, Rng.of(0)).load(TwinFixtures.dir().resolve("classifier.safetensors"));
  }

  @Test
  void hasTheTwinsParametersAndLoadsItsWeights() throws IOException {
    Classifier c = twin();
    assertThat(c.parameters().count()).isEqualTo(56_394);
    assertThat(c.parameters().names()).containsExactlyInAnyOrderElementsOf(
        TwinFixtures.read("classifier.safetensors").tensors().keySet());
  }

  @Test
  void rewardsAreLogProbabilitiesOfTheTargetClass() throws IOException {
    ClassifierReward r = new ClassifierReward(twin());
    INDArray x = Rng.of(1).gaussian(3, 1, 32, 32);
    double[][] logp = new double[3][10];
    for (int c = 0; c < 10; c++) {
      INDArray v = r.evaluate(x, Nd4j.createFromArray(c, c, c).castTo(DataType.INT64));
      for (int i = 0; i < 3; i++) {
        logp[i][c] = v.getDouble(i);
      }
    }
    for (int i = 0; i < 3; i++) {
      double sum = 0;
      for (int c = 0; c < 10; c++) {
        assertThat(logp[i][c]).isNegative();
        sum += Math.exp(logp[i][c]);
      }
      assertThat(sum).as("softmax of sample %d sums to 1", i).isCloseTo(1.0, within(1e-5));
    }
    INDArray mixed = r.evaluate(x, Nd4j.createFromArray(4L, 0L, 9L));
    assertThatThrownBy(() -> r.evaluate(x, null)).hasMessageContaining("needs the target class");
    assertThat(mixed.getDouble(0)).isCloseTo(logp[0][4], within(1e-6));
    assertThat(mixed.getDouble(2)).isCloseTo(logp[2][9], within(1e-6));
  }

  @Test
  void aMissingOrMisshapedTensorIsNamed() throws IOException {
    Map<String, INDArray> w = new LinkedHashMap<>(TwinFixtures.read("classifier.safetensors").tensors());
    w.put("fc.weight", Nd4j.zeros(DataType.FLOAT, 10, 32));
    Path f = dir.resolve("bad.safetensors");
    Safetensors.write(f, w);
    assertThatThrownBy(() -> Classifier.create(1, 10, Rng.of(0)).load(f))
        .hasMessageContaining("tensor 'fc.weight' has shape [10, 32]; expected [10, 64]");
    w.remove("conv2.bias");
    Safetensors.write(f, w);
    assertThatThrownBy(() -> Classifier.create(1, 10, Rng.of(0)).load(f)).hasMessageContaining("missing tensor 'conv2.bias'");
  }
}
