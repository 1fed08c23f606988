package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code bin/nabla} command line. Exit codes: 0 success, 2 bad usage or bad input (a message names
 * what was wrong), 1 any other failure.
 */
@Command(name = "nabla", mixinStandardHelpOptions = true, version = "nabla 0.1.0-SNAPSHOT",
    description = "Fine-tune diffusion models to a reward with Residual ∇-DB (Nabla-GFlowNet).",
    subcommands = {Quickstart.class, Finetune.class, Compare.class, Evaluate.class, Pretrain.class, TrainReward.class, Sample.class, Bench.class,
        CommandLine.HelpCommand.class})
public final class Nabla implements Callable<Integer> {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.out);
    return 2;
  }

  /** Runs the CLI and returns the exit code (does not exit: tests call this). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Nabla());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      boolean badInput = e instanceof IllegalArgumentException || e instanceof java.io.IOException;
      commandLine.getErr().println("nabla " + commandLine.getCommandName() + ": " + e.getMessage());
      if (!badInput) {
        e.printStackTrace(commandLine.getErr());
      }
      return badInput ? 2 : 1;
    });
    return cli.execute(args);
  }

  public static void main(String[] args) {
    System.exit(run(args));
  }
}
