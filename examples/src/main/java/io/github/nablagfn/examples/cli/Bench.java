package io.github.nablagfn.examples.cli;

import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code nabla bench}: runs {@link io.github.nablagfn.examples.bench.UNetBench} with the given arguments. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Time the PyTorch twin's workloads (JSON lines); -Dbench.only=... selects some.")
final class Bench implements Callable<Integer> {
  @Parameters(paramLabel = "ARGS", description = "[runs] [warmup]")
  List<String> args = List.of();

  @Override
  public Integer call() throws Exception {
    io.github.nablagfn.examples.bench.UNetBench.main(args.toArray(new String[0]));
    return 0;
  }
}
