package io.github.nablagfn.core.objective;

import org.nd4j.linalg.api.buffer.DataType;

/**
 * First-principles bounds on the float32 rounding of {@link DbLoss}'s balance term, whatever order or
 * vectorisation the CPU's kernels use. Per row, the error of each log-density −½Σ(x_s − μ)²/σ² is at most
 * Σ_j(|x_s − μ|·δ_j + δ_j²/2)/σ² + (d + 4)u·|log-density| with δ_j = 8u(|x_s| + |m_x x_t| + |m_o ε|) the
 * error of each difference (u = 2⁻²⁴; eight roundings cover the products, the sums and the float32
 * coefficients), and every other term (hints, the DAG-DB base, the flow's terms) adds 8u of its magnitude.
 * The policy's ε at x_t is taken from the batch's recorded outputs: callers sample the trajectories with the
 * policy whose loss they check.
 */
final class DbRounding {
  static final double U = Math.ulp(1.0f) / 2;

  private DbRounding() {}

  /** The bound on each row's Δ; {@code flowAbs} the magnitude of the flow's terms per row. */
  static double[] rowErrors(TransitionBatch b, DbLoss.Inputs in, double[] flowAbs) {
    int n = b.rows();
    long d = b.xT.length() / n;
    double[][] xt = b.xT.castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[][] xs = b.xNext.castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[][] eps = b.epsOld.castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[][] epsRef = in.epsRef() == null ? null : in.epsRef().castTo(DataType.DOUBLE).reshape(n, d).toDoubleMatrix();
    double[] e = new double[n];
    for (int r = 0; r < n; r++) {
      double err = densityError(xt[r], xs[r], eps[r], b, r);
      err += epsRef != null ? densityError(xt[r], xs[r], epsRef[r], b, r) : 8 * U * Math.abs(in.base()[r]);
      e[r] = err + 8 * U * (Math.abs(in.hintT()[r]) + Math.abs(in.hintNext()[r]) + flowAbs[r]);
    }
    return e;
  }

  /** The bound on the loss when the exact Δ is 0 on every row: 4·mean(e²). */
  static double boundAtZero(TransitionBatch b, DbLoss.Inputs in, double[] flowAbs) {
    double sum = 0;
    for (double e : rowErrors(b, in, flowAbs)) {
      sum += e * e;
    }
    return 4 * sum / b.rows();
  }

  /** The bound on |L_float32 − L| given the exact Δ per row: 4·mean(2|Δ|e + e²) + 8u·L. */
  static double bound(TransitionBatch b, DbLoss.Inputs in, double[] flowAbs, double[] delta) {
    double[] e = rowErrors(b, in, flowAbs);
    double sum = 0;
    double loss = 0;
    for (int r = 0; r < e.length; r++) {
      sum += 2 * Math.abs(delta[r]) * e[r] + e[r] * e[r];
      loss += delta[r] * delta[r];
    }
    return (4 * sum + 8 * U * loss) / e.length;
  }

  private static double densityError(double[] xt, double[] xs, double[] eps, TransitionBatch b, int r) {
    double mx = b.meanFromSample[r];
    double mo = b.meanFromOutput[r];
    double inv = b.invVariance[r];
    double err = 0;
    double value = 0;
    for (int j = 0; j < xt.length; j++) {
      double diff = xs[j] - mx * xt[j] - mo * eps[j];
      double delta = 8 * U * (Math.abs(xs[j]) + Math.abs(mx * xt[j]) + Math.abs(mo * eps[j]));
      err += (Math.abs(diff) * delta + delta * delta / 2) * inv;
      value += 0.5 * diff * diff * inv;
    }
    return err + (xt.length + 4) * U * value;
  }
}
