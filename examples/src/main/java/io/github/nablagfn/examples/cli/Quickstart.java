package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The main job: {@code finetune} with its defaults under the name "quickstart": the shipped
 * class-conditional digit model, LoRA rank 8 on the attention projections, Residual ∇-DB, the shipped
 * classifier's reward log p(c | x) with β = 100, 40 iterations of 8 trajectories, DDIM 50 steps (η = 1).
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
    description = "Fine-tune the shipped digit model to the shipped classifier reward and write runs/quickstart/.")
final class Quickstart implements Callable<Integer> {
  @Mixin
  SettingsOptions options;

  @Override
  public Integer call() throws Exception {
    RunSettings defaults = new RunSettings();
    defaults.name = "quickstart";
    return FinetuneRun.run(options.resolve(defaults));
  }
}
