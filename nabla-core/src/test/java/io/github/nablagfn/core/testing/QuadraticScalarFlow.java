package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A flow network for the scalar log-flow of the DB family: every element of its output is
 * q(t)·‖x‖² + u(t)·(direction·x) + e(t) (per-timestep tables), plus a zero trainable bias, so the mean over
 * elements — the log-flow ḡ — is that quadratic. It holds the exact log-flows of the Gaussian toys.
 */
public final class QuadraticScalarFlow implements Denoiser {
  private final double[] q;
  private final double[] u;
  private final double[] e;
  private final double[] direction;
  private final ParameterSet params = new ParameterSet();

  public QuadraticScalarFlow(double[] q, double[] u, double[] e, double[] direction) {
    this.q = q.clone();
    this.u = u.clone();
    this.e = e.clone();
    this.direction = direction.clone();
    params.add("bias", Nd4j.zeros(DataType.FLOAT, direction.length));
  }

  @Override
  public long[] sampleShape() {
    return new long[] {direction.length};
  }

  @Override
  public PredictionType predictionType() {
    return PredictionType.EPSILON;
  }

  @Override
  public int numClasses() {
    return 0;
  }

  @Override
  public ParameterSet parameters() {
    return params;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable t, SDVariable condition) {
    var sd = scope.sd();
    int d = direction.length;
    // row sums as products with a column (a sum over an axis of size 1 fails in ND4J for several rows)
    SDVariable squares = x.mul(x).mmul(sd.constant(Nd4j.ones(DataType.FLOAT, d, 1)));
    SDVariable along = x.mmul(sd.constant(Nd4j.createFromArray(direction).castTo(DataType.FLOAT).reshape(d, 1)));
    SDVariable value = TimestepTable.lookup(sd, t, q).mul(squares).add(TimestepTable.lookup(sd, t, u).mul(along))
        .add(TimestepTable.lookup(sd, t, e));
    return x.mul(0.0).add(value).add(scope.param("bias"));
  }

  @Override
  public Denoiser copy() {
    return new QuadraticScalarFlow(q, u, e, direction);
  }
}
