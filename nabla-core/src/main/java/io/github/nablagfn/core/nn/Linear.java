package io.github.nablagfn.core.nn;

import io.github.nablagfn.core.runtime.Rng;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Fully connected layer y = x Wᵀ + b. Parameters {@code name.weight} (out, in) and
 * {@code name.bias} (out), PyTorch layout and default initialisation.
 */
public record Linear(String name, int in, int out, boolean bias) {

  /** Registers the parameters in {@code params}, initialised as PyTorch does. */
  public static Linear create(ParameterSet params, Rng rng, String name, int in, int out, boolean bias) {
    if (in < 1 || out < 1) {
      throw new IllegalArgumentException("Linear '" + name + "': in = " + in + ", out = " + out + "; expected >= 1");
    }
    params.add(name + ".weight", Init.torchDefault(rng, in, out, in)); // (out, in)
    if (bias) {
      params.add(name + ".bias", Init.torchDefault(rng, in, out)); // (out)
    }
    return new Linear(name, in, out, bias);
  }

  /** Like {@link #create} but weight and bias start at zero (an output layer that starts the model at 0). */
  public static Linear createZero(ParameterSet params, String name, int in, int out) {
    params.add(name + ".weight", Init.zeros(out, in));
    params.add(name + ".bias", Init.zeros(out));
    return new Linear(name, in, out, true);
  }

  /** x: (B, in) → (B, out). */
  public SDVariable forward(GraphScope scope, SDVariable x) {
    SDVariable y = scope.sd().mmul(x, scope.param(name + ".weight"), false, true, false);
    return bias ? y.add(scope.param(name + ".bias")) : y;
  }
}
