package io.github.nablagfn.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Comparisons in the twin README's form: max|a − b| ≤ tol · max|b|. */
public final class Tolerance {
  private Tolerance() {}

  /** Asserts max|actual − expected| ≤ tol · max|expected| (shapes equal). */
  public static void assertRelMax(String what, INDArray actual, INDArray expected, double tol) {
    assertThat(actual.shape()).as(what + " shape").isEqualTo(expected.shape());
    INDArray a = actual.castTo(DataType.DOUBLE);
    INDArray b = expected.castTo(DataType.DOUBLE);
    double err = a.sub(b).amaxNumber().doubleValue();
    double scale = b.amaxNumber().doubleValue();
    assertThat(err).as("%s: max|a-b| = %g vs tol %g * max|b| = %g (shape %s)", what, err, tol, scale,
        Arrays.toString(expected.shape())).isLessThanOrEqualTo(tol * scale);
  }
}
