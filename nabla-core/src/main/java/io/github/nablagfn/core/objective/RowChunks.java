package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.Denoiser;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Rows of a batch evaluated a chunk per graph execution, and the sums that put the chunks together. SameDiff
 * holds a backward pass's arrays until the execution ends, so memory grows with the rows of one execution;
 * the losses are means over rows, so chunk results combine with weights rows_chunk / rows (the same values up
 * to float rounding).
 */
final class RowChunks {
  private RowChunks() {}

  /** What runs on one chunk: rows [from, to) of the batch, whose results count with {@code weight}. */
  @FunctionalInterface
  interface Chunk {
    void run(int from, int to, double weight);
  }

  /**
   * Runs {@code chunk} on consecutive chunks of at most {@code rowsPerExecution} rows (0: all rows at once)
   * covering [0, rows), each with weight (to − from) / rows.
   */
  static void forEach(int rowsPerExecution, int rows, Chunk chunk) {
    int size = Columns.chunk(rowsPerExecution, rows);
    for (int from = 0; from < rows; from += size) {
      int to = Math.min(rows, from + size);
      chunk.run(from, to, (double) (to - from) / rows);
    }
  }

  /**
   * The gradient of every parameter of {@code net} from a graph's gradients named {@code prefix + name}
   * ({@link io.github.nablagfn.core.nn.ParameterSet#gradientsOrZeros}); empty for a null network.
   */
  static Map<String, INDArray> byParameter(Map<String, INDArray> graphGradients, String prefix, Denoiser net) {
    return net == null ? new LinkedHashMap<>() : net.parameters().gradientsOrZeros(graphGradients, prefix);
  }

  /** {@code sum} += {@code weight}·{@code g} per name; a name not yet in {@code sum} gets weight·g (a new array). */
  static void addWeighted(Map<String, INDArray> sum, Map<String, INDArray> g, double weight) {
    g.forEach((k, v) -> {
      INDArray scaled = v.mul(weight);
      INDArray acc = sum.get(k);
      if (acc == null) {
        sum.put(k, scaled);
      } else {
        acc.addi(scaled);
      }
    });
  }
}
