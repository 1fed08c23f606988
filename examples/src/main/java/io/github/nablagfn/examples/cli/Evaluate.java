package io.github.nablagfn.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code nabla evaluate}: accuracy (overall, per class), mean log p(c|x) and FID against real test images. */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
    description = "Evaluate a small U-Net's class-conditional samples with the shipped classifier (JSON lines).")
final class Evaluate implements Callable<Integer> {
  @Parameters(paramLabel = "ARGS",
      description = "model dataDir [perClass=20] [prefix] [guidance scales=1,2] (model: a weights file, an adapter directory or a run directory; dataDir: the digit IDX files)")
  List<String> args = List.of();

  @Override
  public Integer call() throws Exception {
    if (args.size() < 2) {
      throw new IllegalArgumentException("evaluate needs: model dataDir [perClass] [prefix] [scales]");
    }
    io.github.nablagfn.examples.train.EvaluateModel.main(args.toArray(new String[0]));
    return 0;
  }
}
