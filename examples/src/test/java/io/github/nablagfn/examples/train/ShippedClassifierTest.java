package io.github.nablagfn.examples.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The shipped reward classifier loads, states its provenance, and classifies the committed MNIST subset. */
class ShippedClassifierTest {
  private static Path resource(String name) throws Exception {
    return Paths.get(ShippedClassifierTest.class.getResource(name).toURI());
  }

  @Test
  void shippedClassifierIsAccurateOnTheCommittedMnistSubset() throws Exception {
    Path weights = resource("/weights/classifier-mnist.safetensors");
    Safetensors.Contents c = Safetensors.read(weights);
    assertThat(Double.parseDouble(c.metadata().get("test_accuracy"))).isGreaterThanOrEqualTo(0.90);
    assertThat(c.metadata().get("data")).startsWith("MNIST train split");
    ClassifierReward reward = new ClassifierReward(Classifier.create(1, 10, Rng.of(0)).load(weights));
    INDArray x = Idx.toModelInput(Idx.read(resource("/mnist-subset/images-idx3-ubyte.gz"), 3), 2);
    INDArray y = Idx.toLabels(Idx.read(resource("/mnist-subset/labels-idx1-ubyte.gz"), 1));
    // predicted class = argmax_c log p(c | x), via the reward itself
    int n = (int) x.size(0);
    double[][] logp = new double[n][10];
    for (int k = 0; k < 10; k++) {
      long[] labels = new long[n];
      java.util.Arrays.fill(labels, k);
      double[] r = reward.evaluate(x, org.nd4j.linalg.factory.Nd4j.createFromArray(labels)).toDoubleVector();
      for (int i = 0; i < n; i++) {
        logp[i][k] = r[i];
      }
    }
    int correct = 0;
    for (int i = 0; i < n; i++) {
      int best = 0;
      for (int k = 1; k < 10; k++) {
        if (logp[i][k] > logp[i][best]) {
          best = k;
        }
      }
      if (best == y.getLong(i)) {
        correct++;
      }
    }
    // 95.4 % on the 10,000-image test split; on 300 images the binomial SE is 1.2 %, so ≥ 90 % is a 4-SE bound
    assertThat((double) correct / n).isGreaterThanOrEqualTo(0.90);
  }
}
