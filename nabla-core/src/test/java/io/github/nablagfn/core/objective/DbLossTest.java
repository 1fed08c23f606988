package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.LinearDenoiser;
import io.github.nablagfn.core.testing.Measured;
import io.github.nablagfn.core.testing.Trajectories;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link DbLoss} on the linear toy (ε = W x + b, a linear flow network, a linear reward) against the
 * definition evaluated in double: the loss within a first-principles rounding bound ({@link DbRounding}),
 * every gradient against central finite differences of that double loss.
 */
class DbLossTest {
  private static final int D = 3;
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 10);
  private static final int[] STEPS = {2, 5, 9}; // the final step 9 has no flow at x_s
  private static final double BETA = 2.0;
  private static final double[] A = {1.0, -0.5, 0.25};

  /** The four linear maps of a case: policy, reference, flow (W, b each). */
  record Linear(double[][] w, double[] b) {
    static Linear of(LinearDenoiser net) {
      return new Linear(net.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix(),
          net.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector());
    }

    double[] apply(double[] x) {
      double[] y = b.clone();
      for (int j = 0; j < y.length; j++) {
        for (int k = 0; k < x.length; k++) {
          y[j] += w[j][k] * x[k];
        }
      }
      return y;
    }

    double mean(double[] x) {
      double s = 0;
      for (double v : apply(x)) {
        s += v;
      }
      return s / b.length;
    }

    double abs(double[] x) {
      double s = 0;
      for (int j = 0; j < b.length; j++) {
        s += Math.abs(b[j]);
        for (int k = 0; k < x.length; k++) {
          s += Math.abs(w[j][k] * x[k]);
        }
      }
      return s / b.length;
    }
  }

  private static double[][] rows(INDArray a, int n) {
    return a.castTo(DataType.DOUBLE).reshape(n, a.length() / n).toDoubleMatrix();
  }

  private static double dot(double[] x, double[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * y[i];
    }
    return s;
  }

  private static double logDensity(double[] xt, double[] xs, double[] eps, TransitionBatch b, int r) {
    double s = 0;
    for (int j = 0; j < xt.length; j++) {
      double d = xs[j] - b.meanFromSample[r] * xt[j] - b.meanFromOutput[r] * eps[j];
      s += d * d;
    }
    return -0.5 * s * b.invVariance[r];
  }

  /** Δ per row from the definition (DagDb / ResidualDb javadoc), in double. */
  static double[] deltas(TransitionBatch b, boolean residual, Linear policy, Linear reference, Linear flow) {
    int n = b.rows();
    double[][] xt = rows(b.xT, n);
    double[][] xs = rows(b.xNext, n);
    double[][] eo = rows(b.epsOld, n);
    double[][] en = rows(b.epsNext, n);
    double[] delta = new double[n];
    for (int r = 0; r < n; r++) {
      double logPf = logDensity(xt[r], xs[r], policy.apply(xt[r]), b, r);
      double ref;
      if (residual) {
        ref = logDensity(xt[r], xs[r], reference.apply(xt[r]), b, r);
      } else {
        double sq = 0;
        for (int j = 0; j < D; j++) {
          double e = xt[r][j] - b.noisingScale[r] * xs[r][j];
          sq += e * e;
        }
        double v = 1 / b.noisingInvVariance[r];
        double logPb = -0.5 * sq / v - 0.5 * D * Math.log(2 * Math.PI * v);
        ref = logPb + 0.5 * D * Math.log(2 * Math.PI / b.invVariance[r]); // P_F's normaliser moved to this side
      }
      double[] x0t = new double[D];
      double[] x0s = new double[D];
      for (int j = 0; j < D; j++) {
        x0t[j] = b.x0FromSampleT[r] * xt[r][j] + b.x0FromOutputT[r] * eo[r][j];
        x0s[j] = b.x0FromSampleNext[r] * xs[r][j] + b.x0FromOutputNext[r] * en[r][j];
      }
      double hintT = b.rewardWeightT[r] * dot(A, x0t);
      double hintNext = b.rewardWeightNext[r] * dot(A, x0s);
      double flowNext = b.isFinal[r] ? 0 : flow.mean(xs[r]);
      delta[r] = hintT + flow.mean(xt[r]) + logPf - ref - hintNext - flowNext;
    }
    return delta;
  }

  static double loss(double[] delta) {
    double s = 0;
    for (double d : delta) {
      s += d * d;
    }
    return s / delta.length;
  }

  @ParameterizedTest(name = "residual={0}, rowsPerExecution={1}")
  @CsvSource({"true, 0", "false, 0", "true, 4", "false, 4"})
  void lossAndGradientsAreThoseOfTheDefinition(boolean residual, int rowsPerExecution) {
    Rng rng = Rng.of(residual ? 1 : 2);
    LinearDenoiser policyNet = new LinearDenoiser(rng.gaussian(D, D).muli(0.3), rng.gaussian(D).muli(0.1));
    LinearDenoiser refNet = new LinearDenoiser(policyNet.parameters().get("w").add(rng.gaussian(D, D).muli(0.02)),
        policyNet.parameters().get("b").add(rng.gaussian(D).muli(0.02)));
    LinearDenoiser flowNet = new LinearDenoiser(rng.gaussian(D, D).muli(0.2), rng.gaussian(D).muli(0.2));
    DbObjective objective = residual ? Objectives.residualDb() : Objectives.dagDb();
    DbLoss loss = new DbLoss(objective, policyNet, refNet, flowNet, new LinearReward(A).scaled(BETA))
        .rowsPerExecution(rowsPerExecution);
    Trajectory traj = Trajectories.sample(policyNet, SAMPLER, 4, 17);
    TransitionBatch b = TransitionBatch.of(SAMPLER, traj, STEPS, RewardWeighting.ALPHA_BAR, BETA);
    DbLoss.Inputs in = loss.inputs(b);
    DbLoss.Result r = loss.compute(b, in);

    Linear policy = Linear.of(policyNet);
    Linear reference = Linear.of(refNet);
    Linear flow = Linear.of(flowNet);
    double[] delta = deltas(b, residual, policy, reference, flow);
    double[][] xt = rows(b.xT, b.rows());
    double[][] xs = rows(b.xNext, b.rows());
    double[] flowAbs = new double[b.rows()];
    for (int i = 0; i < flowAbs.length; i++) {
      flowAbs[i] = flow.abs(xt[i]) + (b.isFinal[i] ? 0 : flow.abs(xs[i]));
    }
    Measured.assertWithin("DbLossTest.balance", r.balance(), loss(delta), DbRounding.bound(b, in, flowAbs, delta));
    assertThat(r.balance()).as("a case far from balance").isGreaterThan(1e-2);
    // the final transition's rows report R(x_0)
    for (int i = 0; i < b.rows(); i++) {
      if (b.isFinal[i]) {
        double magnitude = 0;
        for (int j = 0; j < D; j++) {
          magnitude += Math.abs(A[j] * xs[i][j]);
        }
        // a float32 dot product of D terms: at most (D + 1)u of the sum of magnitudes
        Measured.assertWithin("DbLossTest.rewardOfX0", r.rewardNext()[i], dot(A, xs[i]),
            (D + 1) * DbRounding.U * magnitude);
      } else {
        assertThat(r.rewardNext()[i]).isNaN();
      }
    }

    // gradients: central differences of the double loss, h = 1e-6 (the loss is a polynomial of degree 4 in
    // the parameters: truncation ~h²·L''' and rounding ~1e-16·L/h stay below 1e-5 relative here, far below the
    // float32 bound)
    double[] e = DbRounding.rowErrors(b, in, flowAbs);
    double[][] eps = rows(b.epsOld, b.rows());
    checkGradients("policy", policy, r.policyGradients(), p -> loss(deltas(b, residual, p, reference, flow)),
        (row, j, k) -> {
          // ∂Δ/∂W_jk = m_o (x_s − μ)_j x_t,k / σ²; (x_s − μ)_j carries DbRounding's δ_j
          double mo = b.meanFromOutput[row];
          double diff = xs[row][j] - b.meanFromSample[row] * xt[row][j] - mo * policy.apply(xt[row])[j];
          double deltaJ = 8 * DbRounding.U * (Math.abs(xs[row][j]) + Math.abs(b.meanFromSample[row] * xt[row][j])
              + Math.abs(mo * eps[row][j]));
          double x = k < 0 ? 1 : xt[row][k];
          double grad = mo * diff * b.invVariance[row] * x;
          return new double[] {grad, Math.abs(mo) * deltaJ * b.invVariance[row] * Math.abs(x)};
        }, delta, e);
    checkGradients("flow", flow, r.flowGradients(), f -> loss(deltas(b, residual, policy, reference, f)),
        (row, j, k) -> {
          double xtK = k < 0 ? 1 : xt[row][k];
          double xsK = b.isFinal[row] ? 0 : k < 0 ? 1 : xs[row][k];
          return new double[] {(xtK - xsK) / D, 0};
        }, delta, e);
  }

  /** ∂Δ_row/∂(W_jk or, for k = −1, b_j) and the rounding error of its float32 evaluation. */
  @FunctionalInterface
  interface RowDerivative {
    double[] at(int row, int j, int k);
  }

  /**
   * Each component of the graph's gradient against central differences of the double loss, within the
   * float32 bound of g = mean 2Δ·∂Δ: 4·(2/N)Σ_rows (e_row·|∂Δ| + |Δ|·(err(∂Δ) + 8u|∂Δ|)), e_row from
   * {@link DbRounding#rowErrors}; the analytic ∂Δ must give the finite difference too.
   */
  private static void checkGradients(String who, Linear at, Map<String, INDArray> grads,
      java.util.function.ToDoubleFunction<Linear> loss, RowDerivative derivative, double[] delta, double[] e) {
    double h = 1e-6;
    double scale = 0;
    for (int j = 0; j < D; j++) {
      for (int k = -1; k < D; k++) {
        double[][] wp = copy(at.w());
        double[][] wm = copy(at.w());
        double[] bp = at.b().clone();
        double[] bm = at.b().clone();
        if (k < 0) {
          bp[j] += h;
          bm[j] -= h;
        } else {
          wp[j][k] += h;
          wm[j][k] -= h;
        }
        double fd = (loss.applyAsDouble(new Linear(wp, bp)) - loss.applyAsDouble(new Linear(wm, bm))) / (2 * h);
        double analytic = 0;
        double bound = 0;
        for (int row = 0; row < delta.length; row++) {
          double[] d = derivative.at(row, j, k);
          analytic += 2 * delta[row] * d[0] / delta.length;
          bound += 2 * (e[row] * Math.abs(d[0]) + Math.abs(delta[row]) * (d[1] + 8 * DbRounding.U * Math.abs(d[0])))
              / delta.length;
        }
        assertThat(analytic).as("%s: analytic ∂L vs finite difference [%d][%d]", who, j, k)
            .isCloseTo(fd, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(fd) + 1e-9));
        double graph = k < 0 ? grads.get("b").getDouble(j) : grads.get("w").getDouble(j, k);
        Measured.assertWithin("DbLossTest.gradient." + who, graph, fd, 4 * bound);
        scale = Math.max(scale, Math.abs(fd));
      }
    }
    assertThat(scale).as("%s: a gradient that is not zero", who).isGreaterThan(1e-3);
  }

  private static double[][] copy(double[][] m) {
    double[][] c = new double[m.length][];
    for (int i = 0; i < m.length; i++) {
      c[i] = m[i].clone();
    }
    return c;
  }

  @Test
  void withoutAFlowNetworkTheLogFlowIsTheRewardHintAndOnlyThePolicyTrains() {
    Rng rng = Rng.of(3);
    LinearDenoiser policyNet = new LinearDenoiser(rng.gaussian(D, D).muli(0.3), rng.gaussian(D).muli(0.1));
    DbLoss loss = new DbLoss(Objectives.residualDb(), policyNet, policyNet.copy(), null,
        new LinearReward(A).scaled(BETA));
    TransitionBatch b = TransitionBatch.of(SAMPLER, Trajectories.sample(policyNet, SAMPLER, 4, 18), STEPS,
        RewardWeighting.ALPHA_BAR, BETA);
    DbLoss.Result r = loss.compute(b);
    Linear zero = new Linear(new double[D][D], new double[D]);
    Linear policy = Linear.of(policyNet);
    double[] delta = deltas(b, true, policy, policy, zero);
    Measured.assertWithin("DbLossTest.noFlow", r.balance(), loss(delta),
        DbRounding.bound(b, loss.inputs(b), new double[b.rows()], delta));
    assertThat(r.flowGradients()).isEmpty();
    assertThat(r.policyGradients()).containsOnlyKeys("w", "b");
  }

  @Test
  void settingsAreValidatedNamingTheObjective() {
    assertThatThrownBy(() -> Objectives.dagDb().timestepFraction(0)).hasMessageContaining("dagDb.timestepFraction = 0.0")
        .hasMessageContaining("(0, 1]");
    assertThatThrownBy(() -> Objectives.residualDb().rewardWeighting(null))
        .hasMessageContaining("residualDb.rewardWeighting");
    assertThat(Objectives.residualDb().settings()).containsEntry("objective", "residual-db");
    assertThat(Objectives.dagDb().allSteps().transitionsPerTrajectory(50)).isEqualTo(50);
    assertThat(Objectives.dagDb().transitionsPerTrajectory(50)).isEqualTo(5);
  }
}
