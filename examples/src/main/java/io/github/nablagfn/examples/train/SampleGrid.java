package io.github.nablagfn.examples.train;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.diffusion.unet.UNet;
import java.nio.file.Path;

/**
 * Writes a PNG grid of class-conditional samples (one row per class, DDIM 50 steps, guidance scale 2) of
 * the small U-Net. Arguments: {@code weights out.png [prefix] [seed]}: the weights file holds the U-Net's
 * tensors, or a pretraining checkpoint whose tensors carry {@code prefix} ({@code ema.} or {@code param.}).
 */
public final class SampleGrid {
  private SampleGrid() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: SampleGrid weights.safetensors|adapterDir|runDir out.png [prefix] [seed]");
      System.exit(2);
    }
    AppRuntime.init();
    String prefix = args.length > 2 ? args[2] : "";
    long seed = args.length > 3 ? Long.parseLong(args[3]) : 0;
    UNet unet = ModelSource.load(Path.of(args[0]), prefix);
    PretrainUNet.writeSamples(unet, Path.of(args[1]), seed);
  }
}
