package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.GaussianChain;
import io.github.nablagfn.core.testing.SampleStats;
import io.github.nablagfn.core.testing.TabulatedShift;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;

/**
 * Residual ∇-DB end to end on the linear-Gaussian toy of docs/design.md §4.6: prior N(m, sI) in 2-D, reward
 * R(x) = aᵀx, β chosen so that the continuous target m + βsa lies two prior standard deviations away.
 *
 * <p>The truth for a finite chain. The policy is the exact prior ε-predictor plus a trainable shift per
 * timestep, the flow a trainable vector per timestep: both families contain the exact solution. The
 * chain's exact residual flow satisfies f(t_i) = A_i f(t_{i+1}) (A_i the step's Jacobian, f(x_0) = βa);
 * it equals c_t·a = β s √ᾱ_t/(ᾱ_t s + 1 − ᾱ_t)·a to 3e-4 relative ({@code TiltedChainTest}), and the
 * chain it induces is the reference chain tilted by exp(βR): N(μ + βΣa, Σ) with μ, Σ the reference chain's
 * exact moments ({@link GaussianChain}). A finite chain under-disperses even with the exact score
 * (Σ = 0.251·I for 10 steps, 0.414·I for 50, with s = 0.5), so the chain's tilt, not N(m + βsa, sI), is the
 * truth here; {@code TiltedChainTest} shows it tends to N(m + βsa, sI) as the steps grow.
 * Checked after training: sample mean and covariance within {@link SampleStats#Z} standard errors of
 * N(μ + βΣa, Σ) (8000 samples), and the learned log-flow γ_tβ∇R(x̂0) + g within 10 % of c_t·a at every
 * step; with β = 0 the distribution stays the reference chain's. The same toy with an MLP policy learned
 * from data is the example {@code TiltedGaussianStudy} (thousands of iterations; see docs/trainer.md).
 */
@Tag("slow")
class TiltedGaussianEndToEndTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final double S = 0.5;
  private static final double[] M = {0.3, -0.2};
  private static final double[] A = {0.6, 0.8}; // unit direction

  /** 10 sampling steps: a 10-link chain converges in a few hundred iterations (50 links take thousands). */
  private static final Sampler SAMPLER = Ddim.of(SCHEDULE, 10);

  @ParameterizedTest(name = "beta = {0}, {1} iterations")
  @CsvSource({"2.8284271247461903, 400", "0.0, 40"})
  void fineTuningReachesTheTiltedChain(double beta, int iterations) {
    TabulatedShift policy = TabulatedShift.policy(M, S, SCHEDULE);
    NablaTrainer trainer = NablaTrainer.builder().policy(policy)
        .flow(FlowModel.of(TabulatedShift.flow(2, SCHEDULE))).sampler(SAMPLER)
        .reward(new LinearReward(A).scaled(beta))
        .objective(Objectives.residualNablaDb().allSteps())
        .policyOptimizer(AdamW.lr(0.05).weightDecay(0))
        .flowOptimizer(AdamW.lr(0.05).weightDecay(0))
        .policyLearningRate(LearningRate.cosine(0.05, 10, iterations, 0.01))
        .flowLearningRate(LearningRate.cosine(0.05, 10, iterations, 0.01))
        .batchSize(64).seed(5).build();
    trainer.fit(iterations);

    double[][] ref = GaussianChain.moments(SAMPLER, M, new double[][] {{S, 0}, {0, S}});
    double[][] cov = GaussianChain.unflatten(ref[1], 2);
    double[] target = new double[2];
    for (int i = 0; i < 2; i++) {
      target[i] = ref[0][i] + beta * (cov[i][0] * A[0] + cov[i][1] * A[1]);
    }
    INDArray x = SAMPLER.sample(new DenoiserGraph(policy), Rng.of(91).gaussian(8000, 2), null, Rng.of(92));
    SampleStats.assertGaussianMoments("fine-tuned chain, beta = " + beta, x, target, cov, 0);

    for (int step = 0; step < SAMPLER.numSteps(); step++) {
      double ab = SAMPLER.step(step).alphaCumprod();
      double c = beta * S * Math.sqrt(ab) / (ab * S + 1 - ab);
      INDArray lf = trainer.logFlowScore(Rng.of(300 + step).gaussian(256, 2), step, null);
      for (int row = 0; row < 256; row += 51) {
        for (int i = 0; i < 2; i++) {
          assertThat(lf.getDouble(row, i)).as("log-flow gradient at step %d (t = %d), row %d, component %d", step,
              SAMPLER.step(step).timestep(), row, i).isCloseTo(c * A[i], within(0.1 * c + 1e-6));
        }
      }
    }
  }
}
