package io.github.nablagfn.core.testing;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** In-graph lookup of a per-timestep table: one-hot(t, T) × table, giving (N, 1) float32 values. */
public final class TimestepTable {
  private TimestepTable() {}

  public static SDVariable lookup(SameDiff sd, SDVariable timesteps, double[] table) {
    SDVariable oneHot = sd.oneHot(timesteps.castTo(DataType.INT64), table.length, -1, 1.0, 0.0, DataType.DOUBLE);
    SDVariable col = sd.constant(Nd4j.createFromArray(table).reshape(table.length, 1));
    return oneHot.mmul(col).castTo(DataType.FLOAT);
  }
}
