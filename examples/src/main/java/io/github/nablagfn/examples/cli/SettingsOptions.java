package io.github.nablagfn.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The run settings as flags (each overrides the config file's value and the default). */
final class SettingsOptions {
  @Option(names = "--config", description = "Settings file (.json, .yaml or .yml); flags override it")
  Path config;
  @Option(names = "--name", description = "Run name: results go to <runs-dir>/<name>/")
  String name;
  @Option(names = "--runs-dir", description = "Default: runs")
  String runsDir;
  @Option(names = "--base", description = "Base model: a weights file, an adapter directory or a run directory (default: the shipped MNIST model)")
  String base;
  @Option(names = "--objective", description = "residual-nabla-db (default), nabla-db, refl, draft-k, draft-lv, "
      + "alignprop, ddpo")
  String objective;
  @Option(names = "--reward", description = "classifier (default: log p(c|x)), aesthetic, ink, symmetry, jpeg (ddpo)")
  String reward;
  @Option(names = "--beta", description = "Reward scale β (default 100)")
  Double beta;
  @Option(names = "--lora-rank", description = "LoRA rank on attention (default 8); 0 = fine-tune every weight")
  Integer loraRank;
  @Option(names = "--lora-targets", description = "attention (default) or all (every Linear and Conv2d weight)")
  String loraTargets;
  @Option(names = "--sampler", description = "ddim (default), ddpm, sde-dpmpp")
  String sampler;
  @Option(names = "--eta", description = "DDIM stochasticity (default 1)")
  Double eta;
  @Option(names = "--steps", description = "Sampling steps (default 50)")
  Integer steps;
  @Option(names = "--batch", description = "Trajectories per iteration (default 8)")
  Integer batch;
  @Option(names = "--seed", description = "Default 0")
  Long seed;
  @Option(names = "--iterations", description = "Fine-tuning iterations (default 40)")
  Integer iterations;
  @Option(names = "--lr", description = "Policy learning rate (default 1e-3)")
  Double lr;
  @Option(names = "--flow-lr", description = "Flow learning rate (default 1e-3)")
  Double flowLr;
  @Option(names = "--warmup", description = "Iterations over which the policy learning rate rises linearly from 0 "
      + "to --lr (default 0: constant; the flow's rate is constant)")
  Integer warmup;
  @Option(names = "--timestep-fraction", description = "∇-DB family: fraction of each trajectory's steps trained "
      + "per iteration, in (0, 1] (default 0.1; the final step is always included)")
  Double timestepFraction;
  @Option(names = "--reg-scale", description = "∇-DB family: λ of the regulariser λ‖ε_θ − ε_old‖² toward the "
      + "outputs recorded while sampling; it acts from the second update of a batch on (--inner-epochs; default 0)")
  Double regScale;
  @Option(names = "--forward-cap", description = "∇-DB family: κ > 0 weighs each transition's forward residual by "
      + "min(1, κ²/s²), s = |m_o|/σ² its step's sensitivity to the network output, so the last steps stop "
      + "drowning out the others (default: none, the paper's score units)")
  Double forwardCap;
  @Option(names = "--inner-epochs", description = "∇-DB family and DDPO: optimizer updates per sampled batch of "
      + "trajectories; each ∇-DB update after the first draws other transitions of the same trajectories and "
      + "is the one --reg-scale acts on (default 1)")
  Integer innerEpochs;
  @Option(names = "--draft-k", description = "Steps DRaFT-K backpropagates through (default 1)")
  Integer draftK;
  @Option(names = "--draft-lv-copies", description = "DRaFT-LV re-noised copies (default 2)")
  Integer draftLvCopies;
  @Option(names = "--refl-late-steps", description = "ReFL draws t among the last N steps (default 10)")
  Integer reflLateSteps;
  @Option(names = "--ddpo-clip", description = "DDPO clip range (default 1e-4)")
  Double ddpoClip;
  @Option(names = "--eval-every", description = "Evaluate every N iterations (default 10)")
  Integer evalEvery;
  @Option(names = "--eval-per-class", description = "Evaluation samples per class (default 4)")
  Integer evalPerClass;

  /** The defaults, then the file's settings over them, then every given flag, validated. */
  RunSettings resolve(RunSettings defaults) throws java.io.IOException {
    RunSettings s = config != null ? RunSettings.read(config, defaults) : defaults;
    if (name != null) s.name = name;
    if (runsDir != null) s.runsDir = runsDir;
    if (base != null) s.base = base;
    if (objective != null) s.objective = objective;
    if (reward != null) s.reward = reward;
    if (beta != null) s.beta = beta;
    if (loraRank != null) s.loraRank = loraRank;
    if (sampler != null) s.sampler = sampler;
    if (loraTargets != null) s.loraTargets = loraTargets;
    if (eta != null) s.eta = eta;
    if (steps != null) s.steps = steps;
    if (batch != null) s.batch = batch;
    if (seed != null) s.seed = seed;
    if (iterations != null) s.iterations = iterations;
    if (lr != null) s.lr = lr;
    if (flowLr != null) s.flowLr = flowLr;
    if (warmup != null) s.warmup = warmup;
    if (timestepFraction != null) s.timestepFraction = timestepFraction;
    if (regScale != null) s.regScale = regScale;
    if (forwardCap != null) s.forwardCap = forwardCap;
    if (innerEpochs != null) s.innerEpochs = innerEpochs;
    if (draftK != null) s.draftK = draftK;
    if (draftLvCopies != null) s.draftLvCopies = draftLvCopies;
    if (reflLateSteps != null) s.reflLateSteps = reflLateSteps;
    if (ddpoClip != null) s.ddpoClip = ddpoClip;
    if (evalEvery != null) s.evalEvery = evalEvery;
    if (evalPerClass != null) s.evalPerClass = evalPerClass;
    return s.validate();
  }
}
