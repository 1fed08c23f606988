package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.ForwardWeighting;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.SampleStats;
import io.github.nablagfn.core.toy.GaussianData;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.junit.jupiter.api.Tag;

/**
 * Residual ∇-DB end to end with an MLP denoiser learned from data (docs/design.md §4.6): prior N(m, sI) in 2-D,
 * reward R(x) = aᵀx, β = 2√2 so that the continuous target m + βsa lies two prior standard deviations
 * away; policy and flow are MLPs, the chain has {@value #STEPS} steps and the default subsampling.
 *
 * <p>The truth is the objective's own target, the pretrained chain tilted by exp(βR), measured on the
 * pretrained model independently of any fine-tuning: its mean and variance by self-normalised importance
 * sampling of {@value #TRUTH_SAMPLES} pretrained samples (with the estimator's standard error), and its
 * residual log-flow gradient ∇ log E_ref[exp(βaᵀx_0) | x_t] by central differences over the pretrained
 * chain run from x_t with common random numbers. A finite chain under-disperses (variance 0.41 rather
 * than 0.5 at 50 steps, see {@code TiltedGaussianEndToEndTest}), so N(m + βsa, sI) itself is not what
 * a 50-step chain can reach. The forward residual is capped at κ = 5 ({@link ForwardWeighting#capped}):
 * in score units the last steps set every update and the mid-chain flow stays 11–22 % low (16.6 % at
 * t = 381, measured). Checked: the fine-tuned mean within 3 combined standard errors of the tilted
 * chain's, each variance within 10 %, and the learned log-flow γ_tβ∇R(x̂0) + g_φ within 10 % (of the
 * gradient's norm) of the chain's at points of the fine-tuned trajectories at every fifth step from mid
 * chain (t = 481) on and the last two (measured: at most 8.7 %). The noisier steps are printed, not
 * asserted: at t = 581 the error is 5–14 %, at t ≥ 681, where the gradient is below 5 % of its final
 * size, 27–260 %. With β = 0 every loss term and gradient is 0, so fine-tuning leaves the model bit for
 * bit unchanged.
 */
@Tag("slow")
class TiltedGaussianMlpEndToEndTest {
  static final int STEPS = 50;
  static final int TRUTH_SAMPLES = 40_000;
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final Sampler SAMPLER = Ddim.of(SCHEDULE, STEPS);
  private static final double S = 0.5;
  private static final double[] M = {0.3, -0.2};
  private static final double[] A = {0.6, 0.8};
  private static final double BETA = 2 * Math.sqrt(2);
  private static final int ITERATIONS = Integer.getInteger("nabla.test.tiltedMlpIterations", 1500);
  private static MlpDenoiser base;

  @BeforeAll
  static void pretrain() {
    base = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    new Pretrainer(base, SCHEDULE, AdamW.lr(2e-3).weightDecay(0), 256, 5)
        .learningRate(LearningRate.cosine(2e-3, 100, 3000, 0.05))
        .fit(new GaussianData(M, new double[][] {{S, 0}, {0, S}}), 3000);
  }

  private static NablaTrainer trainer(MlpDenoiser policy, double beta, int iterations) {
    MlpDenoiser flow = MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, PredictionType.EPSILON)
        .withZeroOutput(), Rng.of(2));
    return NablaTrainer.builder().policy(policy).flow(FlowModel.of(flow)).sampler(SAMPLER)
        .reward(new LinearReward(A).scaled(beta))
        .objective(Objectives.residualNablaDb().timestepFraction(0.2).forwardWeighting(ForwardWeighting.capped(5)))
        .policyOptimizer(AdamW.lr(1e-3).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
        .flowOptimizer(AdamW.lr(3e-3).weightDecay(0).clipNorm(1.0))
        .policyLearningRate(LearningRate.cosine(1e-3, 50, iterations, 0.05))
        .flowLearningRate(LearningRate.cosine(3e-3, 50, iterations, 0.05))
        .batchSize(64).seed(3).build();
  }

  @Test
  void fineTuningReachesThePretrainedChainTiltedByTheReward() {
    // the truth, from the pretrained model alone
    INDArray ref = SAMPLER.sample(new DenoiserGraph(base), Rng.of(9).gaussian(TRUTH_SAMPLES, 2), null, Rng.of(10));
    double[][] x = ref.castTo(DataType.DOUBLE).toDoubleMatrix();
    double[] w = new double[x.length];
    double maxR = Double.NEGATIVE_INFINITY;
    for (double[] row : x) {
      maxR = Math.max(maxR, BETA * (A[0] * row[0] + A[1] * row[1]));
    }
    double sw = 0;
    for (int i = 0; i < x.length; i++) {
      w[i] = Math.exp(BETA * (A[0] * x[i][0] + A[1] * x[i][1]) - maxR);
      sw += w[i];
    }
    double[] mu = new double[2];
    double[] var = new double[2];
    double[] seTruth = new double[2];
    for (int d = 0; d < 2; d++) {
      for (int i = 0; i < x.length; i++) {
        mu[d] += w[i] * x[i][d] / sw;
      }
      for (int i = 0; i < x.length; i++) {
        double c = x[i][d] - mu[d];
        var[d] += w[i] * c * c / sw;
        seTruth[d] += (w[i] / sw) * (w[i] / sw) * c * c; // delta-method variance of the SNIS mean
      }
      seTruth[d] = Math.sqrt(seTruth[d]);
    }

    MlpDenoiser policy = (MlpDenoiser) base.copy();
    NablaTrainer trainer = trainer(policy, BETA, ITERATIONS);
    trainer.fit(ITERATIONS);

    int n = 8000;
    INDArray tuned = SAMPLER.sample(new DenoiserGraph(policy), Rng.of(91).gaussian(n, 2), null, Rng.of(92));
    double[] mean = SampleStats.mean(tuned);
    double[][] cov = SampleStats.cov(tuned);
    String where = String.format("truth: mean %s var %s (SE %s); fine-tuned: mean %s cov %s",
        Arrays.toString(mu), Arrays.toString(var), Arrays.toString(seTruth), Arrays.toString(mean),
        Arrays.deepToString(cov));
    System.out.println(where);
    for (int d = 0; d < 2; d++) {
      double se = Math.sqrt(cov[d][d] / n + seTruth[d] * seTruth[d]);
      assertThat(mean[d]).as("mean[%d]; %s", d, where).isCloseTo(mu[d], within(3 * se));
      assertThat(cov[d][d]).as("variance[%d]; %s", d, where).isCloseTo(var[d], within(0.1 * var[d]));
    }

    // the learned log-flow against the pretrained chain's own, at points the fine-tuned policy visits:
    // within 10 % (of the gradient's norm) from mid chain (step N/2, t = 481) on; the noisier steps
    // before it are printed, not asserted
    Rng rng = Rng.of(40);
    StringBuilder report = new StringBuilder();
    for (int step : new int[] {0, 5, 10, 15, 20, STEPS / 2, 30, 3 * STEPS / 4, 40, 45, STEPS - 2, STEPS - 1}) {
      INDArray points = visited(policy, step, 3, rng.fork("points", step));
      INDArray learned = trainer.logFlowScore(points, step, null);
      for (int p = 0; p < 3; p++) {
        double[] truth = chainLogFlowGradient(points.getRow(p).toDoubleVector(), step, rng.fork("flow", 10 * step + p));
        double[] got = {learned.getDouble(p, 0), learned.getDouble(p, 1)};
        double norm = Math.hypot(truth[0], truth[1]);
        double err = Math.hypot(got[0] - truth[0], got[1] - truth[1]);
        report.append(String.format("step %d (t = %d) point %d: learned %s chain %s, error %.1f %% of |chain|%n",
            step, SAMPLER.step(step).timestep(), p, Arrays.toString(got), Arrays.toString(truth), 100 * err / norm));
        if (step >= STEPS / 2) {
          assertThat(err).as("log-flow gradient error at step %d (t = %d), point %d: learned %s, chain's %s", step,
              SAMPLER.step(step).timestep(), p, Arrays.toString(got), Arrays.toString(truth)).isLessThan(0.1 * norm);
        }
      }
    }
    System.out.print(report);
  }

  /** {@code count} samples x_t at {@code step} of the policy's own chain. */
  private static INDArray visited(MlpDenoiser policy, int step, int count, Rng rng) {
    INDArray[] at = new INDArray[1];
    SAMPLER.sample(new DenoiserGraph(policy), rng.gaussian(count, 2), null, rng.fork("noise", 0),
        (i, sample, out, next) -> {
          if (i == step) {
            at[0] = sample.dup();
          }
        });
    return at[0];
  }

  /**
   * ∇ log E[exp(βaᵀx_0) | x_t = point] under the pretrained chain from {@code step}: central differences
   * (h = 1e-2) of the log-mean over 4000 paths that share their noise across the perturbed starts.
   */
  private static double[] chainLogFlowGradient(double[] point, int step, Rng rng) {
    int paths = 4000;
    INDArray[] noise = new INDArray[STEPS];
    for (int j = step; j < STEPS; j++) {
      noise[j] = rng.fork("step", j).gaussian(paths, 2);
    }
    double h = 1e-2;
    double[] g = new double[2];
    DenoiserGraph model = new DenoiserGraph(base);
    for (int d = 0; d < 2; d++) {
      double[] lf = new double[2];
      for (int sign = 0; sign < 2; sign++) {
        double[] start = point.clone();
        start[d] += sign == 0 ? h : -h;
        INDArray xs = Nd4j.createFromArray(new float[][] {{(float) start[0], (float) start[1]}}).repeat(0, paths);
        for (int j = step; j < STEPS; j++) {
          int[] t = new int[paths];
          Arrays.fill(t, SAMPLER.step(j).timestep());
          xs = SAMPLER.step(j).step(xs, model.predict(xs, t, null), noise[j]);
        }
        double[][] x0 = xs.castTo(DataType.DOUBLE).toDoubleMatrix();
        double max = Double.NEGATIVE_INFINITY;
        for (double[] r : x0) {
          max = Math.max(max, BETA * (A[0] * r[0] + A[1] * r[1]));
        }
        double sum = 0;
        for (double[] r : x0) {
          sum += Math.exp(BETA * (A[0] * r[0] + A[1] * r[1]) - max);
        }
        lf[sign] = max + Math.log(sum / paths);
      }
      g[d] = (lf[0] - lf[1]) / (2 * h);
    }
    return g;
  }

  @Test
  void betaZeroLeavesThePretrainedModelBitForBit() {
    MlpDenoiser policy = (MlpDenoiser) base.copy();
    TrainingHistory history = trainer(policy, 0.0, 60).fit(60);
    assertThat(history.records()).allSatisfy(r -> {
      assertThat(r.term("forward_balance")).isZero();
      assertThat(r.term("backward_balance")).isZero();
      assertThat(r.term("terminal")).isZero();
    });
    Map<String, INDArray> before = base.parameters().asMap();
    policy.parameters().asMap().forEach((name, value) ->
        assertThat(value.reshape(value.length()).toFloatVector()).as(name)
            .isEqualTo(before.get(name).reshape(value.length()).toFloatVector()));
  }
}
