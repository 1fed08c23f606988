package io.github.nablagfn.examples.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The main job: {@code finetune} under the name "quickstart": the shipped class-conditional digit model,
 * LoRA rank 8 on every Linear and Conv2d weight (the small U-Net has a single attention block, too little
 * to move in 40 iterations: measured), learning rate 2e-3, Residual ∇-DB, the shipped classifier's reward
 * log p(c | x) with β = 100, 40 iterations of 8 trajectories, DDIM 50 steps (η = 1). Every setting can be
 * overridden by the same flags as {@code finetune}.
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
    defaults.loraTargets = "all";
    defaults.lr = 2e-3;
    return FinetuneRun.run(options.resolve(defaults));
  }
}
