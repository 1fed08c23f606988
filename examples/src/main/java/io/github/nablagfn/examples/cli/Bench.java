package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nabla bench}: {@link io.github.nablagfn.examples.bench.UNetBench} with typed options. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Time the PyTorch twin's workloads (JSON lines); -Dbench.only=... selects some.")
final class Bench implements Callable<Integer> {
  @Option(names = "--runs", description = "Timed runs per workload (default ${DEFAULT-VALUE})")
  int runs = 10;

  @Option(names = "--warmup", description = "Untimed runs first (default ${DEFAULT-VALUE})")
  int warmup = 5;

  @Override
  public Integer call() throws Exception {
    if (runs < 1 || warmup < 0) {
      throw new IllegalArgumentException("--runs = " + runs + ", --warmup = " + warmup + "; expected >= 1 and >= 0");
    }
    io.github.nablagfn.examples.bench.UNetBench.main(new String[] {Integer.toString(runs), Integer.toString(warmup)});
    return 0;
  }
}
