package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Activation functions as SameDiff ops. */
public final class Activations {
  private Activations() {}

  /**
   * SiLU (swish): x · sigmoid(x), composed from sigmoid and a product. ND4J 1.0.0-M2.1's own
   * {@code swish} gives NaN gradients for large negative inputs (an exp overflow in its derivative,
   * measured at |x| ≈ 100s); the composition's gradient σ(x) + x·σ(x)(1 − σ(x)) stays finite.
   */
  public static SDVariable silu(SameDiff sd, SDVariable x) {
    return x.mul(sd.nn().sigmoid(x));
  }
}
