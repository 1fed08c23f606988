package io.github.nablagfn.examples.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.rewards.aesthetic.AestheticHead;
import io.github.nablagfn.rewards.aesthetic.AestheticReward;
import io.github.nablagfn.rewards.classifier.Classifier;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The shipped aesthetic head predicts the property it was trained on, on images it never saw. */
class ShippedAestheticTest {
  private static Path resource(String name) throws Exception {
    return Paths.get(ShippedAestheticTest.class.getResource(name).toURI());
  }

  @Test
  void shippedHeadPredictsStrokeBoldnessOnTheCommittedSubset() throws Exception {
    Path weights = resource("/weights/aesthetic-mnist.safetensors");
    Safetensors.Contents c = Safetensors.read(weights);
    assertThat(Double.parseDouble(c.metadata().get("test_r2"))).isGreaterThan(0.9);
    Matcher m = Pattern.compile("mean ([0-9.]+), std ([0-9.]+)").matcher(c.metadata().get("target"));
    assertThat(m.find()).isTrue();
    double mean = Double.parseDouble(m.group(1));
    double std = Double.parseDouble(m.group(2));
    AestheticReward reward = new AestheticReward(
        Classifier.create(1, 10, Rng.of(0)).load(resource("/weights/classifier-mnist.safetensors")),
        AestheticHead.create(64, Rng.of(0)).load(weights));
    INDArray x = Idx.toModelInput(Idx.read(resource("/mnist-subset/images-idx3-ubyte.gz"), 3), 2);
    double[] predicted = reward.evaluate(x, null).toDoubleVector();
    double[] truth = TrainAestheticHead.boldness(x); // computed from the pixels, independently of the head
    double ssRes = 0;
    double ssTot = 0;
    double truthMean = 0;
    for (double t : truth) {
      truthMean += (t - mean) / std / truth.length;
    }
    for (int i = 0; i < truth.length; i++) {
      double z = (truth[i] - mean) / std;
      ssRes += (predicted[i] - z) * (predicted[i] - z);
      ssTot += (z - truthMean) * (z - truthMean);
    }
    // 0.97 on the 10,000-image test split; 300 images of another draw (the committed subset) stay above 0.9
    assertThat(1 - ssRes / ssTot).as("R² on the committed subset").isGreaterThan(0.9);
  }
}
