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
import io.github.nablagfn.rewards.classifier.Classifier;
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
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Trains the reward classifier (the twin's architecture) on the full digit set with cross-entropy and
 * AdamW, reports held-out accuracy on the test split, and writes the weights with their provenance.
 * Arguments: {@code dataDir outFile [epochs] [batch] [seed] [datasetName]}: the directory holds the four
 * IDX files ({@code train-images-idx3-ubyte}, ..., raw or {@code .gz}) of MNIST or Fashion-MNIST.
 */
public final class TrainClassifier {
  private TrainClassifier() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: TrainClassifier dataDir out.safetensors [epochs] [batch] [seed] [datasetName]");
      System.exit(2);
    }
    AppRuntime.init();
    Path dataDir = Path.of(args[0]);
    Path out = Path.of(args[1]);
    int epochs = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 128;
    long seed = args.length > 4 ? Long.parseLong(args[4]) : 0;
    String dataset = args.length > 5 ? args[5] : "MNIST";
    INDArray trainX = Idx.toModelInput(Idx.read(idxFile(dataDir, "train-images-idx3-ubyte"), 3), 2);
    INDArray trainY = Idx.toLabels(Idx.read(idxFile(dataDir, "train-labels-idx1-ubyte"), 1));
    INDArray testX = Idx.toModelInput(Idx.read(idxFile(dataDir, "t10k-images-idx3-ubyte"), 3), 2);
    INDArray testY = Idx.toLabels(Idx.read(idxFile(dataDir, "t10k-labels-idx1-ubyte"), 1));
    int n = (int) trainX.size(0);

    Classifier clf = Classifier.create(1, 10, Rng.of(seed));
    SameDiff sd = SameDiff.create();
    SDVariable x = sd.placeHolder("x", DataType.FLOAT, -1, 1, 32, 32);
    SDVariable y = sd.placeHolder("y", DataType.INT64, -1);
    SDVariable logits = clf.logits(GraphScope.of(sd, "", clf.parameters()), x);
    logits.rename("logits");
    SDVariable shifted = logits.sub(logits.max(true, 1));
    SDVariable logp = shifted.sub(sd.math().log(sd.math().exp(shifted).sum(true, 1)));
    logp.mul(sd.oneHot(y, 10, -1, 1.0, 0.0, DataType.FLOAT)).sum(1).mean().neg().rename("loss");
    sd.setLossVariables("loss");
    NablaRuntime.quietly(() -> {
      sd.createGradFunction();
      return null;
    });
    List<String> vars = List.copyOf(clf.parameters().names());

    int stepsPerEpoch = n / batch;
    long total = (long) epochs * stepsPerEpoch;
    AdamW opt = AdamW.lr(2e-3).weightDecay(1e-4).clipNorm(1.0);
    LearningRate lr = LearningRate.cosine(2e-3, Math.min(100, total / 10), total, 0.02);
    AdamW.State state = opt.newState(clf.parameters());
    Rng rng = Rng.of(seed);
    long start = System.nanoTime();
    long step = 0;
    for (int e = 0; e < epochs; e++) {
      int[] perm = permutation(n, rng.fork("epoch", e));
      double lossSum = 0;
      for (int b = 0; b < stepsPerEpoch; b++) {
        int[] idx = java.util.Arrays.copyOfRange(perm, b * batch, (b + 1) * batch);
        Map<String, INDArray> ph = Map.of("x", Nd4j.pullRows(trainX.reshape(n, 1024), 1, idx).reshape(batch, 1, 32, 32),
            "y", Nd4j.pullRows(trainY.reshape(n, 1), 1, idx).reshape(batch));
        OutAndGrad og = GraphRuns.gradientsAndOutputs(sd, ph, List.of("loss"), vars);
        lossSum += og.getOutputs().get("loss").getDouble(0);
        opt.withLr(lr.at(step++)).step(clf.parameters(), og.getGradients(), state);
        if (step % 50 == 0) {
          System.gc(); // off-heap temporaries are freed only when their Java owners are collected
        }
      }
      double acc = accuracy(sd, testX, testY);
      System.out.printf(java.util.Locale.ROOT, "{\"epoch\": %d, \"train_loss\": %.4f, \"test_accuracy\": %.4f, \"seconds\": %.1f}%n", e + 1,
          lossSum / stepsPerEpoch, acc, (System.nanoTime() - start) / 1e9);
    }
    double acc = accuracy(sd, testX, testY);
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("model", "classifier (twin architecture), 10 classes");
    meta.put("data", dataset + " train split (" + n + " images), 28x28 padded to 32x32, scaled to [-1, 1]; "
        + "accuracy on its test split (" + testX.size(0) + " images)");
    meta.put("test_accuracy", String.format(java.util.Locale.ROOT, "%.4f", acc));
    putTrainingSettings(meta, epochs, batch, seed, opt, start);
    Safetensors.write(out, clf.parameters().asMap(), meta);
    System.out.printf(java.util.Locale.ROOT, "{\"written\": \"%s\", \"test_accuracy\": %.4f}%n", out, acc);
  }

  /** {@code dir/name.gz} if present, else {@code dir/name}. */
  static Path idxFile(Path dir, String name) {
    Path gz = dir.resolve(name + ".gz");
    return java.nio.file.Files.exists(gz) ? gz : dir.resolve(name);
  }

  static int[] permutation(int n, Rng rng) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  private static double accuracy(SameDiff sd, INDArray x, INDArray y) {
    long n = x.size(0);
    long correct = 0;
    for (long s = 0; s < n; s += 1000) {
      long e = Math.min(n, s + 1000);
      INDArray logits = sd.output(Map.of("x", x.get(NDArrayIndex.interval(s, e)), "y", y.get(NDArrayIndex.interval(s, e))),
          "logits").get("logits");
      INDArray pred = logits.argMax(1);
      for (long i = 0; i < e - s; i++) {
        if (pred.getLong(i) == y.getLong(s + i)) {
          correct++;
        }
      }
    }
    return (double) correct / n;
  }

  /** The provenance both training mains record: epochs, batch, seed, optimizer and wall time since {@code start}. */
  static void putTrainingSettings(Map<String, String> meta, int epochs, int batch, long seed, AdamW optimizer,
      long start) {
    meta.put("epochs", Integer.toString(epochs));
    meta.put("batch", Integer.toString(batch));
    meta.put("seed", Long.toString(seed));
    meta.put("optimizer", optimizer + " with cosine schedule to 2%");
    meta.put("wall_seconds", String.format(java.util.Locale.ROOT, "%.0f", (System.nanoTime() - start) / 1e9));
  }
}
