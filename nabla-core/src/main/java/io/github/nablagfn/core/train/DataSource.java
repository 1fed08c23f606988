package io.github.nablagfn.core.train;

import io.github.nablagfn.core.runtime.Rng;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Training data: draws batches of clean samples x_0 (and labels, for conditional models) from a given stream. */
@FunctionalInterface
public interface DataSource {

  /** A batch of clean samples and, for a conditional model, their class labels. */
  record Batch(INDArray samples, INDArray labels) {}

  /** The next batch, with all randomness drawn from {@code rng}. */
  Batch next(Rng rng, int batchSize);
}
