package io.github.nablagfn.core.objective;

import io.github.nablagfn.core.model.DenoiserGraph;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The placeholders every loss graph over a {@link TransitionBatch} declares: the states x_t ({@code x_t}) and
 * x_s ({@code x_next}), the sampling-time model output ({@code eps_old}), the timestep ({@code t}), the
 * condition ({@code c}, conditional policies only) and the step's coefficients as columns: μ = m_x·x_t +
 * m_o·out ({@code m_x}, {@code m_o}) and 1/σ² ({@code inv_var}).
 */
record TransitionInputs(SDVariable xT, SDVariable xNext, SDVariable epsOld, SDVariable t, SDVariable c,
    SDVariable mX, SDVariable mO, SDVariable invVar) {

  /** Declares the placeholders in {@code sd}; {@code c} is null for an unconditional policy. */
  static TransitionInputs declare(SameDiff sd, long[] sampleShape, boolean conditional) {
    long[] shape = DenoiserGraph.withBatch(-1, sampleShape);
    long[] column = Columns.placeholderShape(sampleShape.length + 1);
    return new TransitionInputs(sd.placeHolder("x_t", DataType.FLOAT, shape),
        sd.placeHolder("x_next", DataType.FLOAT, shape), sd.placeHolder("eps_old", DataType.FLOAT, shape),
        sd.placeHolder("t", DataType.DOUBLE, -1), conditional ? sd.placeHolder("c", DataType.INT64, -1) : null,
        sd.placeHolder("m_x", DataType.FLOAT, column), sd.placeHolder("m_o", DataType.FLOAT, column),
        sd.placeHolder("inv_var", DataType.FLOAT, column));
  }

  /** The values of {@link #declare}'s placeholders for the rows of {@code b}. */
  static Map<String, INDArray> feed(TransitionBatch b, boolean conditional) {
    Map<String, INDArray> ph = new HashMap<>();
    ph.put("x_t", b.xT);
    ph.put("x_next", b.xNext);
    ph.put("eps_old", b.epsOld);
    ph.put("t", TransitionBatch.doubles(b.t));
    if (conditional) {
      ph.put("c", b.condition);
    }
    ph.put("m_x", b.column(b.meanFromSample));
    ph.put("m_o", b.column(b.meanFromOutput));
    ph.put("inv_var", b.column(b.invVariance));
    return ph;
  }
}
