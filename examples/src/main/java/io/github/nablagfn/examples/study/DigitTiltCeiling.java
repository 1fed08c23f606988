package io.github.nablagfn.examples.study;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.examples.train.Resources;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What the quickstart's metrics can reach at best: the accuracy, reward and within-class diversity of the
 * exact target of Residual ∇-DB, p_ref(x | c)·exp(β log p(c | x)) / Z, for a range of β. It samples the
 * shipped digit model (DDIM, η = 1) and weighs each sample by p(c | x)^β (self-normalised importance
 * weights per class); the weighted accuracy, mean log p(c | x) and weighted mean pairwise cosine distance
 * of the classifier features are the target's, up to Monte-Carlo error (the effective sample size per
 * class is printed). A perfectly fine-tuned model could not do better at that β.
 *
 * <p>Arguments: samples per class (default 100), sampling steps (default 50), seed (default 1). Prints one
 * JSON line per β.
 */
public final class DigitTiltCeiling {
  private static final double[] BETAS = {0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 100};

  private DigitTiltCeiling() {}

  public static void main(String[] args) throws Exception {
    int perClass = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    long seed = args.length > 2 ? Long.parseLong(args[2]) : 1;
    if (perClass < 2 || steps < 2) {
      throw new IllegalArgumentException("samples per class = " + perClass + ", steps = " + steps
          + "; expected >= 2 each");
    }
    AppRuntime.init();
    Path tmp = Files.createTempDirectory("nabla-ceiling");
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0))
        .load(Resources.copy("/weights/unet-mnist.safetensors", tmp));
    Classifier classifier = Classifier.create(1, 10, Rng.of(0))
        .load(Resources.copy("/weights/classifier-mnist.safetensors", tmp));
    int n = 10 * perClass;
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i / perClass;
    }
    Rng rng = Rng.of(seed).fork("ceiling", 0);
    INDArray x = Ddim.of(NoiseSchedule.ddpmDefault(), steps).eta(1.0).sample(new DenoiserGraph(unet),
        rng.gaussian(n, 1, 32, 32), Nd4j.createFromArray(labels), rng.fork("steps", 0));
    ClassifierProbe.Result probe = new ClassifierProbe(classifier, 50).probe(x, labels);
    INDArray f = probe.features().castTo(DataType.DOUBLE);
    INDArray unit = f.div(f.norm2(1).reshape(-1, 1).add(1e-12)); // as Diversity normalises
    double[][] cos = unit.mmul(unit.transpose()).toDoubleMatrix();
    for (double beta : BETAS) {
      double accuracy = 0;
      double reward = 0;
      double diversity = 0;
      double ess = 0;
      for (int c = 0; c < 10; c++) {
        int from = c * perClass;
        double[] w = new double[perClass];
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < perClass; i++) {
          max = Math.max(max, beta * probe.logProb()[from + i]);
        }
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < perClass; i++) {
          w[i] = Math.exp(beta * probe.logProb()[from + i] - max);
          sum += w[i];
          sumSq += w[i] * w[i];
        }
        ess += sum * sum / sumSq / 10;
        double num = 0;
        double den = 0;
        for (int i = 0; i < perClass; i++) {
          accuracy += w[i] / sum * (probe.predicted()[from + i] == c ? 1 : 0) / 10;
          reward += w[i] / sum * probe.logProb()[from + i] / 10;
          for (int j = 0; j < perClass; j++) {
            if (i != j) {
              num += w[i] * w[j] * (1 - cos[from + i][from + j]);
              den += w[i] * w[j];
            }
          }
        }
        diversity += num / den / 10;
      }
      System.out.println(String.format(Locale.ROOT, "{\"beta\": %s, \"accuracy\": %.4f, \"reward\": %.4f, "
          + "\"diversity\": %.5f, \"ess_per_class\": %.1f, \"samples_per_class\": %d, \"steps\": %d}",
          beta, accuracy, reward, diversity, ess, perClass, steps));
    }
  }
}
