package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Makes the gradient with respect to a placeholder available from {@code calculateGradients}.
 *
 * <p>ND4J 1.0.0-M2.1 returns a placeholder's gradient only as a by-product of a backward op that
 * also differentiates a trainable variable: {@code x·w} yields ∂/∂x, but {@code 2·x·w} or
 * {@code x²·w} do not (measured). Routing the placeholder through {@code x + probe}, with
 * {@code probe} a scalar zero variable, makes the first backward op that touches x compute its
 * gradient. The value is unchanged; ask for the gradient of the placeholder's own name.
 */
public final class InputGradients {
  private InputGradients() {}

  /** Returns x + 0, where 0 is the scalar variable {@code <x>__probe}; use the result instead of x. */
  public static SDVariable track(SameDiff sd, SDVariable placeholder) {
    SDVariable probe = sd.var(placeholder.name() + "__probe", Nd4j.scalar(placeholder.dataType(), 0));
    return placeholder.add(probe);
  }
}
