package io.github.nablagfn.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code nabla train-reward}: runs {@link io.github.nablagfn.examples.train.TrainClassifier} with the given arguments. */
@Command(name = "train-reward", mixinStandardHelpOptions = true, description = "Train the reward classifier on a digit set and write its weights.")
final class TrainReward implements Callable<Integer> {
  @Parameters(paramLabel = "ARGS", description = "dataDir outFile [epochs] [batch] [seed] [datasetName]")
  List<String> args = List.of();

  @Override
  public Integer call() throws Exception {
    io.github.nablagfn.examples.train.TrainClassifier.main(args.toArray(new String[0]));
    return 0;
  }
}
