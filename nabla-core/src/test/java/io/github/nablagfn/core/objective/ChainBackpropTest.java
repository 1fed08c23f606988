package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.reward.QuadraticReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.LinearDenoiser;
import io.github.nablagfn.core.testing.Trajectories;
import java.util.function.ToDoubleFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The reward-backpropagation baselines against central finite differences of their loss, recomputed here
 * in double precision from the recorded states and noises (a linear denoiser ε = xWᵀ + b and a quadratic
 * reward, so the loss is a polynomial in (W, b) and central differences are accurate to rounding).
 */
class ChainBackpropTest {
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 10);
  private static final double[] CENTRE = {0.5, -0.3, 0.2};
  private static final double WIDTH = 0.8;
  private static final int D = 3;
  private static final int B = 4;

  private static double reward(double[] x) {
    double s = 0;
    for (int j = 0; j < D; j++) {
      s += (x[j] - CENTRE[j]) * (x[j] - CENTRE[j]);
    }
    return -0.5 * s / (WIDTH * WIDTH);
  }

  private static double[] eps(double[][] w, double[] b, double[] x) {
    double[] e = b.clone();
    for (int i = 0; i < D; i++) {
      for (int k = 0; k < D; k++) {
        e[i] += w[i][k] * x[k];
      }
    }
    return e;
  }

  private static double[] row(INDArray a, int r) {
    return a.getRow(r).castTo(DataType.DOUBLE).toDoubleVector();
  }

  /** −mean R after running steps [from, n) from the recorded state with the recorded noises. */
  private static double chainLoss(Trajectory traj, int from, double[][] w, double[] b) {
    int n = SAMPLER.numSteps();
    double total = 0;
    for (int r = 0; r < B; r++) {
      double[] x = row(traj.states()[from], r);
      for (int i = from; i < n; i++) {
        GaussianStep st = SAMPLER.step(i);
        double[] xr = row(traj.states()[i], r);
        double[] outRec = row(traj.outputs()[i], r);
        double[] next = row(traj.states()[i + 1], r);
        double[] e = eps(w, b, x);
        double[] y = new double[D];
        for (int j = 0; j < D; j++) {
          double d = next[j] - st.meanFromSample() * xr[j] - st.meanFromOutput() * outRec[j]; // σz
          y[j] = st.meanFromSample() * x[j] + st.meanFromOutput() * e[j] + d;
        }
        x = y;
      }
      total += reward(x);
    }
    return -total / B;
  }

  private static void assertGradients(ChainBackprop.Result r, LinearDenoiser policy,
      ToDoubleFunction<double[][][]> loss) {
    double[][] w = policy.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
    double[] b = policy.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector();
    double h = 1e-4;
    double scale = Math.max(r.policyGradients().get("w").amaxNumber().doubleValue(),
        r.policyGradients().get("b").amaxNumber().doubleValue());
    assertThat(scale).as("non-trivial gradient").isGreaterThan(1e-4);
    for (int i = 0; i < D; i++) {
      for (int k = 0; k <= D; k++) { // k = D: the bias
        double[][][] plus = {copy(w), {b.clone()}};
        double[][][] minus = {copy(w), {b.clone()}};
        if (k < D) {
          plus[0][i][k] += h;
          minus[0][i][k] -= h;
        } else {
          plus[1][0][i] += h;
          minus[1][0][i] -= h;
        }
        double fd = (loss.applyAsDouble(plus) - loss.applyAsDouble(minus)) / (2 * h);
        double got = k < D ? r.policyGradients().get("w").getDouble(i, k) : r.policyGradients().get("b").getDouble(i);
        assertThat(got).as("d loss / d %s[%d][%d]", k < D ? "w" : "b", i, k).isCloseTo(fd, within(1e-4 * scale + 1e-6));
      }
    }
  }

  private static double[][] copy(double[][] a) {
    double[][] c = new double[a.length][];
    for (int i = 0; i < a.length; i++) {
      c[i] = a[i].clone();
    }
    return c;
  }

  private static LinearDenoiser policy() {
    Rng rng = Rng.of(12);
    return new LinearDenoiser(rng.gaussian(D, D).muli(0.3), rng.gaussian(D).muli(0.1));
  }

  @ParameterizedTest(name = "DRaFT-K with K = {0}")
  @ValueSource(ints = {1, 3, 10})
  void draftKMatchesFiniteDifferencesOfTheTruncatedChain(int k) {
    LinearDenoiser policy = policy();
    Trajectory traj = Trajectories.sample(policy, SAMPLER, B, 21);
    ChainBackprop cb = new ChainBackprop(policy, new QuadraticReward(CENTRE, WIDTH)).rowsPerExecution(3);
    ChainBackprop.Result r = cb.compute(new DraftK(k), SAMPLER, traj, Rng.of(1));
    // an untrained linear denoiser lets the chain grow to |x| ~ 1e3: compare at float32 precision
    double expected = chainLoss(traj, 10 - k, toD(policy, "w"), toD(policy, "b")[0]);
    assertThat(r.loss()).isCloseTo(expected, within(1e-6 * Math.abs(expected)));
    assertGradients(r, policy, p -> chainLoss(traj, 10 - k, p[0], p[1][0]));
  }

  @Test
  void alignPropIsTheFullChainAndDraftKWithKEqualN() {
    LinearDenoiser policy = policy();
    Trajectory traj = Trajectories.sample(policy, SAMPLER, B, 22);
    ChainBackprop cb = new ChainBackprop(policy, new QuadraticReward(CENTRE, WIDTH));
    ChainBackprop.Result full = cb.compute(new AlignProp(false), SAMPLER, traj, Rng.of(1));
    assertGradients(full, policy, p -> chainLoss(traj, 0, p[0], p[1][0]));
    ChainBackprop.Result k10 = cb.compute(new DraftK(10), SAMPLER, traj, Rng.of(1));
    assertThat(k10.policyGradients().get("w")).isEqualTo(full.policyGradients().get("w"));
  }

  @Test
  void reflDifferentiatesTheOneStepPrediction() {
    LinearDenoiser policy = policy();
    Trajectory traj = Trajectories.sample(policy, SAMPLER, B, 23);
    ChainBackprop cb = new ChainBackprop(policy, new QuadraticReward(CENTRE, WIDTH));
    Rng rng = Rng.of(5);
    int step = 9 - Rng.of(5).nextInt(4); // the same draw the objective makes
    ChainBackprop.Result r = cb.compute(new Refl(4), SAMPLER, traj, rng);
    GaussianStep st = SAMPLER.step(step);
    assertGradients(r, policy, p -> {
      double total = 0;
      for (int row = 0; row < B; row++) {
        double[] x = row(traj.states()[step], row);
        double[] e = eps(p[0], p[1][0], x);
        double[] x0 = new double[D];
        for (int j = 0; j < D; j++) {
          x0[j] = st.x0FromSample() * x[j] + st.x0FromOutput() * e[j];
        }
        total += reward(x0);
      }
      return -total / B;
    });
  }

  @Test
  void draftLvAveragesTheLastStepOverReNoisedCopies() {
    LinearDenoiser policy = policy();
    Trajectory traj = Trajectories.sample(policy, SAMPLER, B, 24);
    ChainBackprop cb = new ChainBackprop(policy, new QuadraticReward(CENTRE, WIDTH));
    int copies = 3;
    ChainBackprop.Result r = cb.compute(new DraftLv(copies), SAMPLER, traj, Rng.of(6));
    GaussianStep st = SAMPLER.step(9);
    double ab = st.alphaCumprod();
    INDArray x0 = traj.states()[10];
    INDArray[] xs = new INDArray[copies];
    INDArray[] ds = new INDArray[copies];
    for (int j = 0; j < copies; j++) { // the same noises the objective draws
      Rng c = Rng.of(6).fork("copy", j);
      xs[j] = x0.mul(Math.sqrt(ab)).addi(c.fork("renoise", 0).gaussian(x0.shape()).muli(Math.sqrt(1 - ab)));
      ds[j] = c.fork("step", 0).gaussian(x0.shape()).muli(st.sigma());
    }
    assertGradients(r, policy, p -> {
      double total = 0;
      for (int j = 0; j < copies; j++) {
        for (int row = 0; row < B; row++) {
          double[] x = row(xs[j], row);
          double[] d = row(ds[j], row);
          double[] e = eps(p[0], p[1][0], x);
          double[] y = new double[D];
          for (int q = 0; q < D; q++) {
            y[q] = st.meanFromSample() * x[q] + st.meanFromOutput() * e[q] + d[q];
          }
          total += reward(y);
        }
      }
      return -total / (B * copies);
    });
  }

  @Test
  void settingsAreValidated() {
    assertThatThrownBy(() -> new DraftK(0)).hasMessageContaining("draftK.k = 0");
    assertThatThrownBy(() -> new DraftLv(0)).hasMessageContaining("draftLv.copies = 0");
    assertThatThrownBy(() -> new Refl(0)).hasMessageContaining("refl.lateSteps = 0");
  }

  private static double[][] toD(LinearDenoiser p, String name) {
    INDArray a = p.parameters().get(name).castTo(DataType.DOUBLE);
    return a.rank() == 1 ? new double[][] {a.toDoubleVector()} : a.toDoubleMatrix();
  }
}
