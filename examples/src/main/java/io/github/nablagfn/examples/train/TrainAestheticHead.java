package io.github.nablagfn.examples.train;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.graph.GraphRuns;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.rewards.aesthetic.AestheticHead;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Trains the {@link AestheticHead} stand-in score on the reward classifier's (frozen) features to predict
 * <b>stroke boldness</b>: the mean pixel intensity of the digit image in [0, 1] (how much ink, i.e. how
 * bold or large the strokes are), standardised with the training split's mean and standard deviation, so
 * a score of +1 is one standard deviation bolder than the average training digit. MSE, AdamW, cosine
 * schedule; reports the held-out R² on the test split and writes the weights with their provenance.
 * Arguments: {@code dataDir classifierWeights outFile [epochs=10] [batch=256] [seed=0]}.
 */
public final class TrainAestheticHead {
  private TrainAestheticHead() {}

  public static void main(String[] args) throws Exception {
    AppRuntime.init();
    Path dataDir = Path.of(args[0]);
    Classifier clf = Classifier.create(1, 10, Rng.of(0)).load(Path.of(args[1]));
    Path out = Path.of(args[2]);
    int epochs = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int batch = args.length > 4 ? Integer.parseInt(args[4]) : 256;
    long seed = args.length > 5 ? Long.parseLong(args[5]) : 0;
    long start = System.nanoTime();
    INDArray trainX = Idx.toModelInput(Idx.read(TrainClassifier.idxFile(dataDir, "train-images-idx3-ubyte"), 3), 2);
    INDArray testX = Idx.toModelInput(Idx.read(TrainClassifier.idxFile(dataDir, "t10k-images-idx3-ubyte"), 3), 2);
    ClassifierProbe probe = new ClassifierProbe(clf, 500);
    INDArray trainF = probe.probe(trainX, new long[(int) trainX.size(0)]).features();
    INDArray testF = probe.probe(testX, new long[(int) testX.size(0)]).features();
    double[] trainY = boldness(trainX);
    double mean = java.util.Arrays.stream(trainY).average().orElseThrow();
    double std = Math.sqrt(java.util.Arrays.stream(trainY).map(v -> (v - mean) * (v - mean)).average().orElseThrow());
    INDArray yTrain = standardise(trainY, mean, std);
    INDArray yTest = standardise(boldness(testX), mean, std);

    AestheticHead head = AestheticHead.create(64, Rng.of(seed));
    SameDiff sd = SameDiff.create();
    SDVariable f = sd.placeHolder("f", DataType.FLOAT, -1, 64);
    SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1);
    SDVariable pred = head.forward(GraphScope.of(sd, "", head.parameters()), f);
    pred.rename("pred");
    SDVariable d = pred.sub(y);
    d.mul(d).mean().rename("loss");
    sd.setLossVariables("loss");
    NablaRuntime.quietly(() -> {
      sd.createGradFunction();
      return null;
    });
    List<String> vars = List.copyOf(head.parameters().names());
    int n = (int) trainF.size(0);
    int steps = Math.max(1, n / batch);
    long total = (long) epochs * steps;
    AdamW opt = AdamW.lr(1e-3).weightDecay(1e-4).clipNorm(1.0);
    LearningRate lr = LearningRate.cosine(1e-3, Math.min(100, total / 10), total, 0.02);
    AdamW.State state = opt.newState(head.parameters());
    Rng rng = Rng.of(seed);
    long step = 0;
    for (int e = 0; e < epochs; e++) {
      int[] perm = TrainClassifier.permutation(n, rng.fork("epoch", e));
      double lossSum = 0;
      for (int b = 0; b < steps; b++) {
        int[] idx = java.util.Arrays.copyOfRange(perm, b * batch, Math.min(n, (b + 1) * batch));
        Map<String, INDArray> ph = Map.of("f", Nd4j.pullRows(trainF, 1, idx),
            "y", Nd4j.pullRows(yTrain.reshape(n, 1), 1, idx).reshape(idx.length));
        OutAndGrad og = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), vars);
        lossSum += og.getOutputs().get("loss").getDouble(0);
        opt.withLr(lr.at(step++)).step(head.parameters(), og.getGradients(), state);
      }
      System.out.printf(java.util.Locale.ROOT, "{\"epoch\": %d, \"train_mse\": %.4f, \"test_r2\": %.4f}%n", e + 1, lossSum / steps,
          r2(sd, testF, yTest));
    }
    double r2 = r2(sd, testF, yTest);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("model", "aesthetic head (LAION aesthetic predictor MLP) over the reward classifier's 64-d features");
    meta.put("target", "stroke boldness: mean pixel intensity in [0, 1], standardised (train mean "
        + String.format(java.util.Locale.ROOT, "%.5f", mean) + ", std " + String.format(java.util.Locale.ROOT, "%.5f", std) + ")");
    meta.put("data", "train split " + n + " images, R2 on the test split " + testF.size(0) + " images");
    meta.put("test_r2", String.format(java.util.Locale.ROOT, "%.4f", r2));
    TrainClassifier.putTrainingSettings(meta, epochs, batch, seed, opt, start);
    Safetensors.write(out, head.parameters().asMap(), meta);
    System.out.printf(java.util.Locale.ROOT, "{\"written\": \"%s\", \"test_r2\": %.4f}%n", out, r2);
  }

  /** Mean intensity in [0, 1] of each image (N, 1, 32, 32) given in [-1, 1]. */
  static double[] boldness(INDArray images) {
    return images.add(1).divi(2).mean(1, 2, 3).castTo(DataType.DOUBLE).toDoubleVector();
  }

  private static INDArray standardise(double[] v, double mean, double std) {
    double[] z = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      z[i] = (v[i] - mean) / std;
    }
    return Nd4j.createFromArray(z).castTo(DataType.FLOAT);
  }

  private static double r2(SameDiff sd, INDArray f, INDArray y) {
    INDArray p = sd.output(Map.of("f", f, "y", y), "pred").get("pred").castTo(DataType.DOUBLE);
    INDArray yd = y.castTo(DataType.DOUBLE);
    double ssRes = p.sub(yd).norm2Number().doubleValue();
    double ssTot = yd.sub(yd.meanNumber()).norm2Number().doubleValue();
    return 1 - ssRes * ssRes / (ssTot * ssTot);
  }
}
