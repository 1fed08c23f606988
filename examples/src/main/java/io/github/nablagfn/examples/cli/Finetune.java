package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.IModelTransformer;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code nabla finetune}: any objective, reward and sampler on a base model; settings from flags or a file. */
@Command(name = "finetune", mixinStandardHelpOptions = true, modelTransformer = Finetune.Options.class,
    description = "Fine-tune a base model to a reward and write <runs-dir>/<name>/ (metrics, evaluation curves, "
        + "before/after grids, checkpoints). Resumes an interrupted run of the same name.")
final class Finetune implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** Finetune's defaults: {@link RunSettings}' own. */
  static RunSettings defaults() {
    return new RunSettings();
  }

  /** Adds the settings' options with finetune's defaults. */
  static final class Options implements IModelTransformer {
    @Override
    public CommandSpec transform(CommandSpec spec) {
      return SettingsOptions.addTo(spec, defaults());
    }
  }

  @Override
  public Integer call() throws Exception {
    return FinetuneRun.run(SettingsOptions.resolve(spec.commandLine().getParseResult(), defaults()));
  }
}
