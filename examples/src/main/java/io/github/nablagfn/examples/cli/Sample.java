package io.github.nablagfn.examples.cli;

import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.examples.train.ModelSource;
import io.github.nablagfn.examples.train.PretrainUNet;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code nabla sample}: a PNG grid of class-conditional samples of a small U-Net, fine-tuned or not. */
@Command(name = "sample", mixinStandardHelpOptions = true,
    description = "Write a PNG grid of class-conditional samples of a small U-Net (one row per class, DDIM 50 steps, "
        + "guidance scale 2).")
final class Sample implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MODEL",
      description = "A weights file, an adapter directory (adapter_config.json) or a run directory")
  Path model;

  @Parameters(index = "1", paramLabel = "OUT.png", description = "The PNG file to write")
  Path out;

  @Option(names = "--prefix", description = "Only the tensors whose names start with this, prefix removed "
      + "(e.g. ema. of a pretraining checkpoint; default: all)")
  String prefix = "";

  @Option(names = "--seed", description = "Seed of the noises (default ${DEFAULT-VALUE})")
  long seed = 0;

  @Override
  public Integer call() throws Exception {
    AppRuntime.init();
    UNet unet = ModelSource.load(model, prefix);
    PretrainUNet.writeSamples(unet, out, seed);
    System.out.println("wrote " + out.toAbsolutePath());
    return 0;
  }
}
