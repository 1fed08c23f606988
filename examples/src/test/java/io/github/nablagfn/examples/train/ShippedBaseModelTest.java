package io.github.nablagfn.examples.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.diffusion.guidance.GuidedDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Tag;

/** The shipped base model loads into the small U-Net and draws digits the classifier recognises. */
@Tag("slow")
class ShippedBaseModelTest {
  private static Path resource(String name) throws Exception {
    return Paths.get(ShippedBaseModelTest.class.getResource(name).toURI());
  }

  @Test
  void shippedModelDrawsRecognisableDigitsOfTheRequestedClass() throws Exception {
    Path weights = resource("/weights/unet-mnist.safetensors");
    assertThat(Safetensors.read(weights).metadata()).containsKeys("data", "training", "iterations", "final_loss",
        "wall_seconds", "accuracy_guidance2");
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0)).load(weights); // every name and shape must match
    int perClass = 3;
    long[] labels = new long[10 * perClass];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i / perClass;
    }
    Rng rng = Rng.of(11);
    INDArray x = Ddim.of(NoiseSchedule.ddpmDefault(), 50).sample(new DenoiserGraph(new GuidedDenoiser(unet, 2.0)),
        rng.gaussian(labels.length, 1, 32, 32), Nd4j.createFromArray(labels), rng.fork("steps", 0));
    Classifier clf = Classifier.create(1, 10, Rng.of(0)).load(resource("/weights/classifier-mnist.safetensors"));
    double accuracy = new ClassifierProbe(clf, 30).probe(x, labels).accuracy(labels);
    // measured 0.99 on 100 samples; with 30 samples, fewer than 24 right would be a >4-sigma event
    assertThat(accuracy).isGreaterThanOrEqualTo(0.8);
  }
}
