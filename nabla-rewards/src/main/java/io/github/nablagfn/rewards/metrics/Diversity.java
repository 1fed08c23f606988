package io.github.nablagfn.rewards.metrics;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Diversity of a set of samples of one condition: the mean pairwise cosine distance 1 − cos(f_i, f_j)
 * between their feature embeddings over all pairs {@code i < j} (our analogue of the paper's DreamSim
 * diversity, on classifier features).
 */
public final class Diversity {
  private Diversity() {}

  public static double meanPairwiseCosineDistance(INDArray features) {
    if (features.rank() != 2 || features.size(0) < 2) {
      throw new IllegalArgumentException("features of shape " + java.util.Arrays.toString(features.shape())
          + "; expected (n >= 2, d)");
    }
    INDArray f = features.castTo(DataType.DOUBLE);
    INDArray norms = f.norm2(1).reshape(-1, 1);
    INDArray unit = f.div(norms.add(1e-12));
    INDArray cos = unit.mmul(unit.transpose());
    long n = f.size(0);
    double trace = 0;
    for (long i = 0; i < n; i++) {
      trace += cos.getDouble(i, i);
    }
    double sumOffDiagonal = cos.sumNumber().doubleValue() - trace;
    double pairs = n * (n - 1.0);
    return 1.0 - sumOffDiagonal / pairs;
  }
}
