package io.github.nablagfn.examples.cli;

import picocli.CommandLine.Command;

/** {@code nabla finetune}: any objective, reward and sampler on a base model; settings from flags or a file. */
@Command(name = "finetune", mixinStandardHelpOptions = true, modelTransformer = SettingsCommand.Options.class,
    description = "Fine-tune a base model to a reward and write <runs-dir>/<name>/ (metrics, evaluation curves, "
        + "before/after grids, checkpoints). Resumes an interrupted run of the same name.")
final class Finetune extends SettingsCommand {
  /** Finetune's defaults: {@link RunSettings}' own. */
  @Override
  RunSettings defaults() {
    return new RunSettings();
  }

  @Override
  public Integer call() throws Exception {
    return FinetuneRun.run(settings());
  }
}
