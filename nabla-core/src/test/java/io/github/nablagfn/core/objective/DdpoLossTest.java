package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.LinearDenoiser;
import io.github.nablagfn.core.testing.Measured;
import io.github.nablagfn.core.testing.Trajectories;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** DDPO's surrogate against its definition recomputed in double (linear denoiser ε = xWᵀ + b). */
class DdpoLossTest {
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 10);
  private static final int D = 3;
  private static final int B = 6;
  /** Interior steps: on the final step σ² ≈ 5e-5, and float32 log-probabilities lose about 1e-3 relative. */
  private static final int[] STEPS = {2, 5, 8};

  /** The clipped surrogate in double for policy (w, b), with ε_old the recorded outputs. */
  private static double surrogate(TransitionBatch tb, double[] adv, double[][] w, double[] b, double clip) {
    double total = 0;
    for (int r = 0; r < tb.rows(); r++) {
      double[] x = tb.xT.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double[] xs = tb.xNext.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double[] eo = tb.epsOld.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double logp = 0;
      double logpOld = 0;
      for (int i = 0; i < D; i++) {
        double e = b[i];
        for (int k = 0; k < D; k++) {
          e += w[i][k] * x[k];
        }
        double mu = tb.meanFromSample[r] * x[i] + tb.meanFromOutput[r] * e;
        double muOld = tb.meanFromSample[r] * x[i] + tb.meanFromOutput[r] * eo[i];
        logp -= 0.5 * (xs[i] - mu) * (xs[i] - mu) * tb.invVariance[r];
        logpOld -= 0.5 * (xs[i] - muOld) * (xs[i] - muOld) * tb.invVariance[r];
      }
      double ratio = Math.exp(logp - logpOld);
      double a = adv[r % B];
      total += Math.max(-a * ratio, -a * Math.min(Math.max(ratio, 1 - clip), 1 + clip));
    }
    return total / tb.rows();
  }

  /**
   * A first-order bound on the float32 rounding error of the surrogate as the graph computes it, from
   * the standard model fl(a ∘ b) = (a ∘ b)(1 + δ), |δ| ≤ u = 2⁻²⁴, and γₙ = nu/(1 − nu) for n-term sums:
   * ε = Wx + b errs by γ_{D+1}(|b| + Σ|W||x|); d = x_s − (m_x x + m_o ε) (constants rounded to float
   * too) by 4u(|x_s| + |m_x x| + |m_o ε|) + |m_o||δε|; q = Σ d²/σ² by Σ 2|d||δd|/σ² + γ_{D+3} Σ d²/σ²;
   * log ρ = −½(q − q_old) by ½(|δq| + |δq_old|) + 2u, so ρ by ρ·(that + u); the clipped surrogate is
   * |A|-Lipschitz in ρ, A rounded by u, and the mean of N rows adds γ_N. Twice that covers the
   * second-order terms. The matrix (scripts/test-matrix.sh) reports how much of it each CPU setting uses.
   */
  private static double roundingBound(TransitionBatch tb, double[] adv, double[][] w, double[] b) {
    double u = Math.ulp(1.0f) / 2;
    int n = tb.rows();
    double total = 0;
    for (int r = 0; r < n; r++) {
      double[] x = tb.xT.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double[] xs = tb.xNext.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double[] eo = tb.epsOld.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
      double mx = tb.meanFromSample[r];
      double mo = tb.meanFromOutput[r];
      double iv = tb.invVariance[r];
      double logp = 0;
      double logpOld = 0;
      double dq = 0;
      double dqOld = 0;
      double q = 0;
      double qOld = 0;
      for (int i = 0; i < D; i++) {
        double e = b[i];
        double eAbs = Math.abs(b[i]);
        for (int k = 0; k < D; k++) {
          e += w[i][k] * x[k];
          eAbs += Math.abs(w[i][k] * x[k]);
        }
        double de = gamma(D + 1, u) * eAbs;
        double d = xs[i] - mx * x[i] - mo * e;
        double dd = 4 * u * (Math.abs(xs[i]) + Math.abs(mx * x[i]) + Math.abs(mo * e)) + Math.abs(mo) * de;
        double dOld = xs[i] - mx * x[i] - mo * eo[i];
        double ddOld = 4 * u * (Math.abs(xs[i]) + Math.abs(mx * x[i]) + Math.abs(mo * eo[i]));
        q += d * d * iv;
        qOld += dOld * dOld * iv;
        dq += 2 * Math.abs(d) * dd * iv;
        dqOld += 2 * Math.abs(dOld) * ddOld * iv;
        logp -= 0.5 * d * d * iv;
        logpOld -= 0.5 * dOld * dOld * iv;
      }
      dq += gamma(D + 3, u) * q;
      dqOld += gamma(D + 3, u) * qOld;
      double ratio = Math.exp(logp - logpOld);
      double dRatio = ratio * (0.5 * (dq + dqOld) + 3 * u);
      double a = Math.abs(adv[r % B]);
      total += a * dRatio + a * u * ratio * (1 + gamma(n, u));
    }
    return 2 * (total / n) * (1 + gamma(n, u));
  }

  private static double gamma(int k, double u) {
    return k * u / (1 - k * u);
  }

  private static double[] advantages() {
    return DdpoLoss.advantages(new double[] {1, 3, 2, 7, 4, 1}, null);
  }

  @Test
  void atTheSamplingPolicyTheGradientIsReinforce() {
    Rng rng = Rng.of(3);
    LinearDenoiser policy = new LinearDenoiser(rng.gaussian(D, D).muli(0.3), rng.gaussian(D).muli(0.1));
    TransitionBatch tb = TransitionBatch.of(SAMPLER, Trajectories.sample(policy, SAMPLER, B, 31), STEPS,
        RewardWeighting.ALPHA_BAR, 0);
    double[] adv = advantages();
    // clip 0.2: nothing is clipped at ratio ≈ 1 (recomputing ε in float32 moves ρ by up to ~1e-3 here)
    DdpoLoss.Result r = new DdpoLoss(new Ddpo(0.2, 1, 1), policy).rowsPerExecution(5).compute(tb, adv);
    assertThat(r.meanRatioDeviation()).as("ratio = 1 up to recomputation rounding").isLessThan(1e-3);
    assertThat(r.clippedFraction()).isZero();
    // −(1/N) Σ A ∇ log π, ∇_W log π = (x_s − μ)/σ² · m_o · xᵀ
    double[][] gw = new double[D][D];
    double[] gb = new double[D];
    for (int row = 0; row < tb.rows(); row++) {
      double[] x = tb.xT.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
      double[] xs = tb.xNext.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
      double[] eo = tb.epsOld.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
      for (int i = 0; i < D; i++) {
        double mu = tb.meanFromSample[row] * x[i] + tb.meanFromOutput[row] * eo[i];
        double s = (xs[i] - mu) * tb.invVariance[row] * tb.meanFromOutput[row] * -adv[row % B] / tb.rows();
        gb[i] += s;
        for (int k = 0; k < D; k++) {
          gw[i][k] += s * x[k];
        }
      }
    }
    double scale = r.policyGradients().get("w").amaxNumber().doubleValue();
    assertThat(scale).isGreaterThan(1e-3);
    for (int i = 0; i < D; i++) {
      // each row's term carries its ratio ρ = 1 ± 1e-3: 3e-3 of the largest component
      assertThat(r.policyGradients().get("b").getDouble(i)).isCloseTo(gb[i], within(3e-3 * scale));
      for (int k = 0; k < D; k++) {
        assertThat(r.policyGradients().get("w").getDouble(i, k)).isCloseTo(gw[i][k], within(3e-3 * scale));
      }
    }
  }

  /** Away from the sampling policy some rows are clipped; loss and gradient are the clipped surrogate's. */
  @Test
  void awayFromTheSamplingPolicyTheClippedSurrogateIsDifferentiated() {
    Rng rng = Rng.of(4);
    LinearDenoiser old = new LinearDenoiser(rng.gaussian(D, D).muli(0.3), rng.gaussian(D).muli(0.1));
    TransitionBatch tb = TransitionBatch.of(SAMPLER, Trajectories.sample(old, SAMPLER, B, 32), STEPS,
        RewardWeighting.ALPHA_BAR, 0);
    LinearDenoiser policy = (LinearDenoiser) old.copy();
    policy.parameters().get("b").addi(rng.gaussian(D).muli(0.05));
    double clip = 0.2;
    double[] adv = advantages();
    DdpoLoss.Result r = new DdpoLoss(new Ddpo(clip, 1, 1), policy).compute(tb, adv);
    assertThat(r.clippedFraction()).as("some rows clipped, not all").isGreaterThan(0).isLessThan(1);
    double[][] w = policy.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[] b = policy.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector();
    // float32 rounding of the graph's loss, bounded from first principles (roundingBound); whatever the
    // CPU's kernels do, an IEEE float32 evaluation of these ops lands inside it
    Measured.assertWithin("DdpoLossTest.clippedSurrogate.loss", r.loss(), surrogate(tb, adv, w, b, clip),
        roundingBound(tb, adv, w, b));
    double h = 1e-6;
    double scale = r.policyGradients().get("b").amaxNumber().doubleValue();
    for (int i = 0; i < D; i++) {
      double[] bp = b.clone();
      double[] bm = b.clone();
      bp[i] += h;
      bm[i] -= h;
      double fd = (surrogate(tb, adv, w, bp, clip) - surrogate(tb, adv, w, bm, clip)) / (2 * h);
      assertThat(r.policyGradients().get("b").getDouble(i)).as("d/db[%d]", i).isCloseTo(fd, within(1e-2 * scale));
    }
  }

  /**
   * One-dimensional samples (a sum over a single axis of size 1, which ND4J cannot run for several rows):
   * the surrogate equals its definition in double; a different policy makes the ratios differ from 1.
   */
  @Test
  void oneDimensionalSamplesGiveTheSurrogateOfTheDefinition() {
    Rng rng = Rng.of(5);
    LinearDenoiser old = new LinearDenoiser(rng.gaussian(1, 1).muli(0.3), rng.gaussian(1).muli(0.1));
    LinearDenoiser policy = new LinearDenoiser(old.parameters().get("w").add(0.05),
        old.parameters().get("b").sub(0.02));
    TransitionBatch tb = TransitionBatch.of(SAMPLER, Trajectories.sample(old, SAMPLER, B, 33), STEPS,
        RewardWeighting.ALPHA_BAR, 0.0);
    double[] adv = rng.gaussian(B).castTo(DataType.DOUBLE).toDoubleVector();
    double clip = 0.2;
    DdpoLoss.Result r = new DdpoLoss(new Ddpo(clip, 1, 1), policy).rowsPerExecution(5).compute(tb, adv);
    double w = policy.parameters().get("w").getDouble(0, 0);
    double b = policy.parameters().get("b").getDouble(0);
    double total = 0;
    double deviation = 0;
    for (int row = 0; row < tb.rows(); row++) {
      double x = tb.xT.getDouble(row, 0);
      double xs = tb.xNext.getDouble(row, 0);
      double mu = tb.meanFromSample[row] * x + tb.meanFromOutput[row] * (w * x + b);
      double muOld = tb.meanFromSample[row] * x + tb.meanFromOutput[row] * tb.epsOld.getDouble(row, 0);
      double ratio = Math.exp(-0.5 * ((xs - mu) * (xs - mu) - (xs - muOld) * (xs - muOld)) * tb.invVariance[row]);
      double a = adv[row % B];
      total += Math.max(-a * ratio, -a * Math.min(Math.max(ratio, 1 - clip), 1 + clip));
      deviation += Math.abs(ratio - 1);
    }
    // float32 log-probabilities on interior steps: ≈ 1e-3 relative at most (the class comment's bound)
    assertThat(r.loss()).isCloseTo(total / tb.rows(), within(2e-3 * Math.abs(total / tb.rows()) + 1e-6));
    assertThat(r.meanRatioDeviation()).isCloseTo(deviation / tb.rows(), within(2e-3 * deviation / tb.rows()));
    assertThat(r.meanRatioDeviation()).as("the policy differs from the sampling one").isGreaterThan(1e-3);
    assertThat(r.policyGradients().get("w").amaxNumber().doubleValue()).isPositive();
  }

  @Test
  void advantagesAreStandardisedPerCondition() {
    double[] a = DdpoLoss.advantages(new double[] {1, 3, 10, 10, 5}, new long[] {0, 0, 1, 1, 2});
    assertThat(a[0]).isCloseTo(-1, within(1e-6)); // mean 2, std 1
    assertThat(a[1]).isCloseTo(1, within(1e-6));
    assertThat(a[2]).isCloseTo(0, within(1e-6)); // equal rewards: 0, not NaN
    assertThat(a[4]).isZero(); // a condition seen once
    assertThatThrownBy(() -> new Ddpo(0, 1, 1)).hasMessageContaining("ddpo.clipRange = 0.0");
    assertThatThrownBy(() -> new Ddpo(0.1, 1, 0)).hasMessageContaining("ddpo.innerEpochs = 0");
  }
}
