package io.github.nablagfn.core.objective;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Per-row coefficients as float32 columns (N, 1, ..., 1) that broadcast against (N, sample shape...). */
public final class Columns {
  private Columns() {}

  public static INDArray of(double[] values, int rank) {
    long[] shape = new long[rank];
    Arrays.fill(shape, 1);
    shape[0] = values.length;
    return Nd4j.createFromArray(values).castTo(DataType.FLOAT).reshape(shape);
  }

  /** Placeholder shape (−1, 1, ..., 1) of a column. */
  public static long[] placeholderShape(int rank) {
    long[] shape = new long[rank];
    Arrays.fill(shape, 1);
    shape[0] = -1;
    return shape;
  }

  /**
   * Σ over each row's sample axes of {@code v} (N, sampleShape...), giving (N). A sample of one element is its
   * own sum (a reshape): ND4J 1.0.0-M2.1 fails on a sum over axes of size 1 of a batch of several rows
   * (docs/samediff-notes.md).
   */
  static org.nd4j.autodiff.samediff.SDVariable sumPerRow(org.nd4j.autodiff.samediff.SDVariable v, long[] sampleShape) {
    long elements = 1;
    for (long s : sampleShape) {
      elements *= s;
    }
    if (elements == 1) {
      return v.reshape(-1);
    }
    int[] dims = new int[sampleShape.length];
    for (int i = 0; i < dims.length; i++) {
      dims[i] = i + 1;
    }
    return v.sum(dims);
  }

  /** Checks a rows-per-execution setting (0 = all rows in one graph execution) and returns it. */
  static int checkRowsPerExecution(int rows) {
    if (rows < 0) {
      throw new IllegalArgumentException("rowsPerExecution = " + rows + "; expected >= 0 (0 = all rows at once)");
    }
    return rows;
  }

  /** Rows per graph execution for a batch of {@code rows} under the setting {@code rowsPerExecution}. */
  static int chunk(int rowsPerExecution, int rows) {
    return rowsPerExecution == 0 ? rows : Math.min(rows, rowsPerExecution);
  }

  /** The whole array when [from, to) covers it (no copy), else a copy of those rows. */
  public static INDArray rowsOrWhole(INDArray a, int from, int to) {
    return from == 0 && to == a.size(0) ? a : rows(a, from, to);
  }

  /** Rows [from, to) of a per-row array (any rank), copied; null stays null. */
  public static INDArray rows(INDArray a, int from, int to) {
    return a == null ? null : a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).dup();
  }
}
