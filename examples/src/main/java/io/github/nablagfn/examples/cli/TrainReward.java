package io.github.nablagfn.examples.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code nabla train-reward}: {@link io.github.nablagfn.examples.train.TrainClassifier} with typed options. */
@Command(name = "train-reward", mixinStandardHelpOptions = true,
    description = "Train the reward classifier on a digit set and write its weights.")
final class TrainReward implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DATA_DIR",
      description = "Directory with the train and t10k IDX files (.gz or not)")
  Path data;

  @Parameters(index = "1", paramLabel = "OUT.safetensors", description = "The weights file to write")
  Path out;

  @Option(names = "--epochs", description = "Epochs (default ${DEFAULT-VALUE})")
  int epochs = 5;

  @Option(names = "--batch", description = "Images per step (default ${DEFAULT-VALUE})")
  int batch = 128;

  @Option(names = "--seed", description = "Seed (default ${DEFAULT-VALUE})")
  long seed = 0;

  @Option(names = "--dataset", description = "Dataset name recorded with the weights (default ${DEFAULT-VALUE})")
  String dataset = "MNIST";

  @Override
  public Integer call() throws Exception {
    if (epochs < 1 || batch < 1) {
      throw new IllegalArgumentException("--epochs = " + epochs + ", --batch = " + batch + "; expected each >= 1");
    }
    io.github.nablagfn.examples.train.TrainClassifier.main(new String[] {data.toString(), out.toString(),
        Integer.toString(epochs), Integer.toString(batch), Long.toString(seed), dataset});
    return 0;
  }
}
