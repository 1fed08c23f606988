package io.github.nablagfn.examples.cli;

import io.github.nablagfn.examples.train.EvaluateModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code nabla evaluate}: accuracy (overall, per class), mean log p(c|x) and FID against real test images. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Evaluate a small U-Net's class-conditional samples with the shipped classifier (one JSON line "
        + "per guidance scale).")
final class Evaluate implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL",
      description = "A weights file, an adapter directory (adapter_config.json) or a run directory")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "DIR",
      description = "Directory with the digit test set: t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (.gz or not)")
  Path data;

  @Option(names = "--per-class", description = "Samples per class (default ${DEFAULT-VALUE})")
  int perClass = 20;

  @Option(names = "--prefix", description = "Only the tensors whose names start with this, prefix removed "
      + "(e.g. ema. of a pretraining checkpoint; default: all)")
  String prefix = "";

  @Option(names = "--guidance", split = ",", paramLabel = "SCALE",
      description = "Classifier-free guidance scales, comma-separated (default 1,2)")
  double[] guidance = {1, 2};

  @Override
  public Integer call() throws Exception {
    if (perClass < 2) {
      throw new IllegalArgumentException("--per-class = " + perClass + "; expected >= 2 (FID needs a covariance)");
    }
    for (double g : guidance) {
      if (!(g >= 1) || Double.isInfinite(g)) {
        throw new IllegalArgumentException("--guidance " + g + "; expected finite scales >= 1 (1 = no guidance)");
      }
    }
    EvaluateModel.evaluate(model, data, perClass, prefix, guidance);
    return 0;
  }
}
