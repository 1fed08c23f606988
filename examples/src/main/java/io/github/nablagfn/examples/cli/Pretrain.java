package io.github.nablagfn.examples.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code nabla pretrain}: {@link io.github.nablagfn.examples.train.PretrainUNet} with typed options. */
@Command(name = "pretrain", mixinStandardHelpOptions = true,
    description = "Pretrain the small class-conditional U-Net on a digit set (resumable: run it again with more "
        + "iterations).")
final class Pretrain implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DATA_DIR",
      description = "Directory with train-images-idx3-ubyte and train-labels-idx1-ubyte (.gz or not)")
  Path data;

  @Parameters(index = "1", paramLabel = "OUT_DIR", description = "Where weights, checkpoints and samples go")
  Path out;

  @Option(names = "--iterations", required = true, description = "Total training iterations to reach")
  long iterations;

  @Option(names = "--batch", description = "Images per iteration (default ${DEFAULT-VALUE})")
  int batch = 64;

  @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE})")
  long seed = 0;

  @Option(names = "--checkpoint-every", description = "Iterations between checkpoints (default ${DEFAULT-VALUE})")
  int checkpointEvery = 250;

  @Option(names = "--dataset", description = "Dataset name recorded with the weights (default ${DEFAULT-VALUE})")
  String dataset = "MNIST";

  @Override
  public Integer call() throws Exception {
    if (iterations < 1 || batch < 1 || checkpointEvery < 1) {
      throw new IllegalArgumentException("--iterations = " + iterations + ", --batch = " + batch
          + ", --checkpoint-every = " + checkpointEvery + "; expected each >= 1");
    }
    io.github.nablagfn.examples.train.PretrainUNet.main(new String[] {data.toString(), out.toString(),
        Long.toString(iterations), Integer.toString(batch), Long.toString(seed), Integer.toString(checkpointEvery),
        dataset});
    return 0;
  }
}
