package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code nabla finetune}: any objective, reward and sampler on a base model; settings from flags or a file. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
    description = "Fine-tune a base model to a reward and write <runs-dir>/<name>/ (metrics, evaluation curves, "
        + "before/after grids, checkpoints). Resumes an interrupted run of the same name.")
final class Finetune implements Callable<Integer> {
  @Mixin
  SettingsOptions options;

  @Override
  public Integer call() throws Exception {
    return FinetuneRun.run(options.resolve(new RunSettings()));
  }
}
