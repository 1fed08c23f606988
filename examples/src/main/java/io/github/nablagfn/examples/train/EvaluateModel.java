package io.github.nablagfn.examples.train;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.diffusion.guidance.GuidedDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import io.github.nablagfn.rewards.metrics.Frechet;
import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Evaluates a class-conditional small U-Net with the shipped classifier: for {@code perClass} samples of
 * every class (DDIM 50 steps, η = 1, fixed seed) at each guidance scale, prints one JSON line with the
 * accuracy (overall and per class), the mean log p(c | x), and the FID (classifier features) against the
 * first 1000 images of the test split. Arguments: {@code model dataDir [perClass=20] [prefix]
 * [guidance scales, comma-separated = 1,2]}, where the model is a weights file, an adapter directory or a
 * run directory ({@link ModelSource}).
 */
public final class EvaluateModel {
  private EvaluateModel() {}

  public static void main(String[] args) throws Exception {
    evaluate(Path.of(args[0]), Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 20,
        args.length > 3 ? args[3] : "", Arrays.stream((args.length > 4 ? args[4] : "1,2").split(","))
            .mapToDouble(Double::parseDouble).toArray());
  }

  /** Evaluates the model at {@code weights} (see {@link ModelSource}) and prints one JSON line per scale. */
  public static void evaluate(Path weights, Path dataDir, int perClass, String prefix, double[] scales) throws Exception {
    AppRuntime.init();
    UNet unet = ModelSource.load(weights, prefix);
    Classifier classifier = Classifier.create(1, 10, Rng.of(0))
        .load(Resources.copy("/weights/classifier-mnist.safetensors", null));
    ClassifierProbe probe = new ClassifierProbe(classifier, 100);
    INDArray test = Idx.toModelInput(Idx.read(TrainClassifier.idxFile(dataDir, "t10k-images-idx3-ubyte"), 3), 2);
    long[] testLabels = Idx.toLabels(Idx.read(TrainClassifier.idxFile(dataDir, "t10k-labels-idx1-ubyte"), 1))
        .toLongVector();
    INDArray real = test.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 1000)).dup();
    ClassifierProbe.Result realProbe = probe.probe(real, Arrays.copyOf(testLabels, 1000));
    int n = 10 * perClass;
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i / perClass;
    }
    for (double scale : scales) {
      Rng rng = Rng.of(7);
      long start = System.nanoTime();
      INDArray x = Ddim.of(NoiseSchedule.ddpmDefault(), 50).sample(
          new DenoiserGraph(scale == 1 ? unet : new GuidedDenoiser(unet, scale)), rng.gaussian(n, 1, 32, 32),
          Nd4j.createFromArray(labels), rng.fork("steps", 0));
      ClassifierProbe.Result r = probe.probe(x, labels);
      System.out.printf(java.util.Locale.ROOT, "{\"guidance\": %.1f, \"samples\": %d, \"accuracy\": %.4f, "
          + "\"per_class_accuracy\": %s, \"mean_log_p\": %.4f, \"fid_vs_test1000\": %.3f, \"seconds\": %.0f}%n",
          scale, n, r.accuracy(labels), Arrays.toString(r.accuracyPerClass(labels, 10)), r.meanLogProb(),
          Frechet.distance(r.features(), realProbe.features()), (System.nanoTime() - start) / 1e9);
    }
  }
}
