package io.github.nablagfn.rewards.metrics;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.rewards.classifier.Classifier;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Evaluates a classifier on arrays, in batches, for the metrics: penultimate features (for FID and
 * diversity), log p(label | x) (the classifier reward's value) and the predicted class (for accuracy).
 * The graph is built once.
 */
public final class ClassifierProbe {
  /** Features (N, F), log p(label | x) (N), predicted class (N). */
  public record Result(INDArray features, double[] logProb, int[] predicted) {
    /** Fraction of rows whose predicted class equals {@code labels[i]}. */
    public double accuracy(long[] labels) {
      int hit = 0;
      for (int i = 0; i < predicted.length; i++) {
        hit += predicted[i] == labels[i] ? 1 : 0;
      }
      return (double) hit / predicted.length;
    }

    /** Accuracy per class 0..numClasses−1 (NaN for a class with no rows). */
    public double[] accuracyPerClass(long[] labels, int numClasses) {
      double[] hit = new double[numClasses];
      double[] count = new double[numClasses];
      for (int i = 0; i < predicted.length; i++) {
        int c = (int) labels[i];
        count[c]++;
        hit[c] += predicted[i] == c ? 1 : 0;
      }
      for (int c = 0; c < numClasses; c++) {
        hit[c] = count[c] == 0 ? Double.NaN : hit[c] / count[c];
      }
      return hit;
    }

    public double meanLogProb() {
      return java.util.Arrays.stream(logProb).average().orElse(Double.NaN);
    }
  }

  private final SameDiff sd = SameDiff.create();
  private final int batch;

  public ClassifierProbe(Classifier classifier, int batch) {
    if (batch < 1) {
      throw new IllegalArgumentException("batch = " + batch + "; expected >= 1");
    }
    this.batch = batch;
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1, 32, 32);
    GraphScope scope = new GraphScope(sd, "", classifier.parameters(), false);
    SDVariable features = classifier.features(scope, x);
    features.rename("features");
    SDVariable logits = classifier.logits(scope, x);
    SDVariable shifted = logits.sub(logits.max(true, 1));
    shifted.sub(sd.math().log(sd.math().exp(shifted).sum(true, 1))).rename("log_softmax");
  }

  /** Probes images (N, 1, 32, 32) in [-1, 1] with their labels (N). */
  public Result probe(INDArray images, long[] labels) {
    int n = Math.toIntExact(images.size(0));
    if (labels.length != n) {
      throw new IllegalArgumentException(n + " images but " + labels.length + " labels");
    }
    INDArray[] feats = new INDArray[(n + batch - 1) / batch];
    double[] logProb = new double[n];
    int[] predicted = new int[n];
    for (int from = 0, k = 0; from < n; from += batch, k++) {
      int to = Math.min(n, from + batch);
      INDArray x = images.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup();
      Map<String, INDArray> out = GraphRuns.output(sd, Map.of("x", x), "features", "log_softmax");
      feats[k] = out.get("features");
      INDArray ls = out.get("log_softmax");
      for (int i = from; i < to; i++) {
        logProb[i] = ls.getDouble(i - from, labels[i]);
        predicted[i] = ls.getRow(i - from).argMax().getInt(0);
      }
    }
    return new Result(org.nd4j.linalg.factory.Nd4j.concat(0, feats), logProb, predicted);
  }

  /**
   * Prior drift: the FID (on this classifier's features) between a fine-tuned model's samples and the
   * base model's samples for the same conditions (and, best, the same initial noises). 0 when the model
   * has not moved; it grows as fine-tuning leaves the prior.
   */
  public double priorDrift(INDArray tunedSamples, INDArray baseSamples) {
    return Frechet.distance(probe(tunedSamples, new long[(int) tunedSamples.size(0)]).features(),
        probe(baseSamples, new long[(int) baseSamples.size(0)]).features());
  }
}
