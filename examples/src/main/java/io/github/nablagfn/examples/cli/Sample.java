package io.github.nablagfn.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code nabla sample}: runs {@link io.github.nablagfn.examples.train.SampleGrid} with the given arguments. */
@Command(name = "sample", mixinStandardHelpOptions = true, description = "Write a PNG grid of class-conditional samples of a small U-Net.")
final class Sample implements Callable<Integer> {
  @Parameters(paramLabel = "ARGS", description = "model out.png [prefix] [seed]; model: a weights file, an adapter directory (adapter_config.json) or a run directory")
  List<String> args = List.of();

  @Override
  public Integer call() throws Exception {
    io.github.nablagfn.examples.train.SampleGrid.main(args.toArray(new String[0]));
    return 0;
  }
}
