package io.github.nablagfn.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code nabla pretrain}: runs {@link io.github.nablagfn.examples.train.PretrainUNet} with the given arguments. */
@Command(name = "pretrain", mixinStandardHelpOptions = true, description = "Pretrain the small class-conditional U-Net on a digit set (resumable).")
final class Pretrain implements Callable<Integer> {
  @Parameters(paramLabel = "ARGS", description = "dataDir outDir iterations [batch] [seed] [checkpointEvery] [datasetName]")
  List<String> args = List.of();

  @Override
  public Integer call() throws Exception {
    io.github.nablagfn.examples.train.PretrainUNet.main(args.toArray(new String[0]));
    return 0;
  }
}
