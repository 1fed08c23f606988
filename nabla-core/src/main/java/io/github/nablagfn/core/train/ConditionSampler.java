package io.github.nablagfn.core.train;

import io.github.nablagfn.core.runtime.Rng;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Draws the conditions (class labels) of a training batch; null for unconditional models. */
@FunctionalInterface
public interface ConditionSampler {
  INDArray sample(Rng rng, int batchSize);

  /** No condition. */
  static ConditionSampler none() {
    return (rng, b) -> null;
  }

  /** Labels uniform over 0..numClasses−1 (int64). */
  static ConditionSampler uniform(int numClasses) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("numClasses = " + numClasses + "; expected >= 1");
    }
    return (rng, b) -> {
      long[] c = new long[b];
      for (int i = 0; i < b; i++) {
        c[i] = rng.nextInt(numClasses);
      }
      return Nd4j.createFromArray(c);
    };
  }

  /** Always the same label. */
  static ConditionSampler fixed(int label) {
    return (rng, b) -> {
      long[] c = new long[b];
      java.util.Arrays.fill(c, label);
      return Nd4j.createFromArray(c);
    };
  }
}
