package io.github.nablagfn.diffusion.lora;

import io.github.nablagfn.core.model.AdaptedDenoiser;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.PredictionType;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A base denoiser with LoRA adapters: each target weight W (out, in, ...) is used as
 * W + (α/r)·reshape(B·A) with A (r, fan_in) and B (out, r), B starting at zero. Only the adapters are
 * {@link #parameters()} (θ); the base weights enter every graph as constants and stay bit-identical
 * during training. {@link #base()} is the network with the adapters disabled (the reference policy,
 * no second copy in memory).
 */
public final class LoraDenoiser implements AdaptedDenoiser {
  private final Denoiser base;
  private final LoraConfig config;
  private final ParameterSet adapters;

  private LoraDenoiser(Denoiser base, LoraConfig config, ParameterSet adapters) {
    this.base = base;
    this.config = config;
    this.adapters = adapters;
  }

  /** Adds fresh adapters to {@code base} (A initialised from {@code rng}, B = 0). */
  public static LoraDenoiser wrap(Denoiser base, LoraConfig config, Rng rng) {
    ParameterSet a = new ParameterSet();
    for (String target : config.targets()) {
      if (!base.parameters().contains(target)) {
        throw new IllegalArgumentException("LoRA target '" + target + "' is not a parameter of the base model");
      }
      long[] shape = base.parameters().get(target).shape();
      if (shape.length != 2 && shape.length != 4) {
        throw new IllegalArgumentException("LoRA target '" + target + "' has shape " + Arrays.toString(shape)
            + "; expected a Linear (out, in) or Conv2d (out, in, kh, kw) weight");
      }
      long out = shape[0];
      long fanIn = 1;
      for (int i = 1; i < shape.length; i++) {
        fanIn *= shape[i];
      }
      INDArray aInit = config.init() == LoraConfig.Init.KAIMING_UNIFORM
          ? rng.uniform(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), config.rank(), fanIn)
          : rng.gaussian(config.rank(), fanIn).muli(1.0 / config.rank());
      a.add(target + ".lora_A", aInit);
      a.add(target + ".lora_B", org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, out, config.rank()));
    }
    return new LoraDenoiser(base, config, a);
  }

  @Override
  public Denoiser base() {
    return base;
  }

  public LoraConfig config() {
    return config;
  }

  @Override
  public long[] sampleShape() {
    return base.sampleShape();
  }

  @Override
  public PredictionType predictionType() {
    return base.predictionType();
  }

  @Override
  public int numClasses() {
    return base.numClasses();
  }

  /** The adapters A and B (the trainable parameters). */
  @Override
  public ParameterSet parameters() {
    return adapters;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable timesteps, SDVariable condition) {
    GraphScope baseScope = new GraphScope(scope.sd(), scope.prefix() + "base.", base.parameters(), false,
        (name, w) -> {
          if (!adapters.contains(name + ".lora_A")) {
            return null;
          }
          SDVariable a = scope.param(name + ".lora_A");
          SDVariable b = scope.param(name + ".lora_B");
          long[] shape = base.parameters().get(name).shape();
          return w.add(b.mmul(a).mul(config.scale()).reshape(shape));
        });
    return base.forward(baseScope, x, timesteps, condition);
  }

  /**
   * Folds the adapters into the base weights (W ← W + (α/r)·B·A) and resets B to zero, so this
   * denoiser computes the same function and {@link #base()} now includes the update.
   */
  public void merge() {
    for (String target : config.targets()) {
      INDArray w = base.parameters().get(target);
      INDArray delta = adapters.get(target + ".lora_B").mmul(adapters.get(target + ".lora_A"))
          .muli(config.scale()).reshape(w.shape());
      w.addi(delta);
      adapters.get(target + ".lora_B").assign(0);
    }
  }

  /**
   * Writes the adapters to {@code dir} in the PEFT layout ({@code adapter_model.safetensors} and
   * {@code adapter_config.json}; see {@link PeftAdapters}).
   *
   * @param baseModel recorded as {@code base_model_name_or_path}: where the base weights can be found
   */
  public void saveAdapters(Path dir, String baseModel) throws IOException {
    PeftAdapters.save(this, dir, baseModel, Map.of());
  }

  /**
   * Loads adapters written by {@link #saveAdapters} (or by PEFT for the same modules) into this model; the
   * rank, α and target modules must be this model's.
   */
  public void loadAdapters(Path dir) throws IOException {
    PeftAdapters.Config stored = PeftAdapters.readConfig(dir);
    if (stored.lora().rank() != config.rank()) {
      throw new IOException(dir + ": adapters of rank " + stored.lora().rank() + "; this model has rank " + config.rank());
    }
    if (stored.lora().alpha() != config.alpha()) {
      throw new IOException(dir + ": adapters with lora_alpha " + stored.lora().alpha() + "; this model has "
          + config.alpha());
    }
    if (!new java.util.HashSet<>(stored.lora().targets()).equals(new java.util.HashSet<>(config.targets()))) {
      throw new IOException(dir + ": adapters for " + stored.lora().targets() + "; this model adapts "
          + config.targets());
    }
    adapters.load(PeftAdapters.load(dir, base).parameters().asMap(), false);
  }

  @Override
  public LoraDenoiser copy() {
    return new LoraDenoiser(base.copy(), config, adapters.copy());
  }
}
