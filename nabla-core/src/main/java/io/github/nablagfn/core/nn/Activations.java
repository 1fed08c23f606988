package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/** Activation functions as SameDiff ops. */
public final class Activations {
  private Activations() {}

  /** SiLU (swish): x · sigmoid(x). */
  public static SDVariable silu(SameDiff sd, SDVariable x) {
    return sd.nn().swish(x);
  }
}
