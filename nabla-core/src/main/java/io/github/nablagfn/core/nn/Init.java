package io.github.nablagfn.core.nn;

import io.github.nablagfn.core.runtime.Rng;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded parameter initialisers (float32). */
public final class Init {
  private Init() {}

  /**
   * PyTorch's default for Linear and Conv2d weights and biases: U(−1/√fanIn, 1/√fanIn)
   * (kaiming_uniform with a = √5 for weights gives the same bound).
   */
  public static INDArray torchDefault(Rng rng, long fanIn, long... shape) {
    double bound = 1.0 / Math.sqrt(fanIn);
    return rng.uniform(-bound, bound, shape);
  }

  /** All zeros (a zero-initialised output layer starts the model at 0). */
  public static INDArray zeros(long... shape) {
    return Nd4j.zeros(DataType.FLOAT, shape);
  }

  /** All ones (GroupNorm scale). */
  public static INDArray ones(long... shape) {
    return Nd4j.ones(DataType.FLOAT, shape);
  }

  /** N(0, std²). */
  public static INDArray normal(Rng rng, double std, long... shape) {
    return rng.gaussian(shape).muli(std);
  }
}
