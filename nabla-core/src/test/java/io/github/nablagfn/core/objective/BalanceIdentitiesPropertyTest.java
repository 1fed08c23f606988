package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.ConstantFlow;
import io.github.nablagfn.core.testing.GaussianPriorDenoiser;
import io.github.nablagfn.core.testing.Trajectories;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * The flow-balance identities the library rests on (docs/design.md §4), checked on configurations the
 * generators draw — dimension, β, reward direction, prior, noise schedule, timestep spacing, number of steps,
 * η, prediction type, reward weighting γ_t, batch and transitions — so that a failure shrinks to a minimal
 * configuration (QuickTheories shrinks every drawn value toward the simplest case).
 */
class BalanceIdentitiesPropertyTest {

  /** θ = reference: a denoiser of any shape and prediction type, K of N transitions of a sampled batch. */
  record SameAsReference(GeneratedChains.Chain chain, int dim, int hidden, PredictionType prediction, int batch,
      double fraction,
      long seed) {}

  private static Gen<SameAsReference> sameAsReference() {
    Gen<int[]> sizes = integers().between(1, 4).zip(integers().between(2, 16), integers().between(1, 5),
        (d, h, b) -> new int[] {d, h, b});
    return GeneratedChains.chains(25).zip(sizes, Generate.enumValues(PredictionType.class), doubles().between(0.0, 1.0),
        longs().all(), (c, s, p, f, seed) -> new SameAsReference(c, s[0], s[1], p, s[2], f, seed));
  }

  /**
   * Residual ∇-DB with the policy equal to its reference, a zero flow and β = 0: every term of the loss and
   * every gradient of θ and φ is exactly 0. Both sides of each residual are computed with the same ops on
   * the same numbers, so "exactly" holds in float32 whatever the configuration.
   */
  @Test
  void aPolicyEqualToItsReferenceWithZeroFlowAndZeroBetaHasExactlyZeroLossAndGradients() {
    qt().withFixedSeed(101).withExamples(25).forAll(sameAsReference())
        .assuming(c -> c.chain().stochastic()).checkAssert(c -> {
      Sampler sampler = c.chain().sampler(c.prediction());
      MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(c.dim(), c.hidden(), 2, 8, 0, c.prediction()),
          Rng.of(c.seed()));
      MlpDenoiser flow = MlpDenoiser.create(new MlpDenoiser.Config(c.dim(), 4, 1, 8, 0, c.prediction())
          .withZeroOutput(), Rng.of(c.seed() + 1));
      double[] direction = Rng.of(c.seed() + 2).gaussian(c.dim()).castTo(DataType.DOUBLE).toDoubleVector();
      ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.residualNablaDb(), policy, policy.copy(), flow,
          new LinearReward(direction).scaled(0.0));
      int n = sampler.numSteps();
      int k = 1 + (int) Math.floor(c.fraction() * (n - 1));
      int[] steps = new int[k];
      Rng pick = Rng.of(c.seed() + 3);
      for (int i = 0; i < k - 1; i++) {
        steps[i] = pick.nextInt(n - 1);
      }
      steps[k - 1] = n - 1;
      Trajectory traj = Trajectories.sample(policy, sampler, c.batch(), c.seed() + 4);
      TransitionBatch b = TransitionBatch.of(sampler, traj, steps, RewardWeighting.ALPHA_BAR, 0.0);
      ResidualNablaDbLoss.Result r = loss.compute(b);
      assertThat(new double[] {r.terms().forwardBalance(), r.terms().backwardBalance(), r.terms().terminal(),
          r.terms().regulariser()}).as("%s: terms", c).containsOnly(0.0);
      for (Map<String, INDArray> grads : List.of(r.policyGradients(), r.flowGradients())) {
        grads.forEach((name, g) -> assertThat(g.amaxNumber().doubleValue()).as("%s: gradient of %s", c, name).isZero());
      }
    });
  }

  /** The linear-Gaussian toy: prior N(m, sI) in d dimensions, reward aᵀx scaled by β, a chain, γ_t. */
  record Tilt(GeneratedChains.Chain chain, double[] m, double s, double[] a, double beta, RewardWeighting weighting,
      long seed) {
    @Override
    public String toString() {
      return "Tilt[" + chain + ", m=" + Arrays.toString(m) + ", s=" + s + ", a=" + Arrays.toString(a) + ", beta="
          + beta + ", " + weighting + ", seed=" + seed + "]";
    }
  }

  private static Gen<Tilt> tilts() {
    Gen<double[]> prior = integers().between(1, 4).zip(longs().all(), doubles().between(0.2, 2.0), (d, seed, s) -> {
      double[] ma = Rng.of(seed).gaussian(2 * d).castTo(DataType.DOUBLE).toDoubleVector();
      double[] out = new double[2 * d + 1];
      out[0] = s;
      for (int i = 0; i < 2 * d; i++) {
        out[1 + i] = 0.5 * ma[i];
      }
      return out;
    });
    return GeneratedChains.chains(60).zip(prior, doubles().between(0.1, 5.0),
        Generate.enumValues(RewardWeighting.class),
        longs().all(), (c, p, beta, w, seed) -> {
          int d = (p.length - 1) / 2;
          double[] m = Arrays.copyOfRange(p, 1, 1 + d);
          double[] a = Arrays.copyOfRange(p, 1 + d, 1 + 2 * d);
          a[0] += a[0] >= 0 ? 0.5 : -0.5; // a reward that is not flat
          return new Tilt(c, m, p[0], a, beta, w, seed);
        });
  }

  /**
   * The exact solution of the tilted target N(m + βsa, sI): a policy whose transition mean is the
   * reference mean shifted by σ_t²·c_s·a, with c_t = βs√ᾱ_t/(ᾱ_t s + 1 − ᾱ_t) the exact residual log-flow
   * gradient, and g_φ(x, t) = (c_t − γ_t β k_t)·a, makes the forward balance vanish for any (x_t, x_s) — to
   * float32 rounding of the scores (≈ 1e-7 relative each; the bound 1e-10 of the mean squared reference
   * score is ≈ 1e-14 in squares with a margin for the sum over terms).
   */
  @Test
  void theExactTiltedResidualMakesTheForwardBalanceVanish() {
    qt().withFixedSeed(103).withExamples(20).forAll(tilts())
        .assuming(c -> c.chain().stochastic()).checkAssert(c -> {
      NoiseSchedule schedule = c.chain().schedule();
      Sampler sampler = c.chain().sampler(PredictionType.EPSILON);
      int n = sampler.numSteps();
      double[] abar = schedule.alphasCumprod();
      double[] shift = new double[abar.length];
      double[] flow = new double[abar.length];
      for (int i = 0; i < n; i++) {
        GaussianStep st = sampler.step(i);
        double cNext = i + 1 < n ? logFlowSlope(c, sampler.step(i + 1).alphaCumprod()) : c.beta();
        shift[st.timestep()] = st.variance() * cNext / st.meanFromOutput();
        double slope = Math.sqrt(1 - st.alphaCumprod()) / (st.alphaCumprod() * c.s() + 1 - st.alphaCumprod());
        double k = st.x0FromSample() + st.x0FromOutput() * slope;
        double gamma = c.weighting().gamma(st.alphaCumprod());
        flow[st.timestep()] = logFlowSlope(c, st.alphaCumprod()) - gamma * c.beta() * k;
      }
      GaussianPriorDenoiser policy = new GaussianPriorDenoiser(c.m(), c.s(), schedule, shift, c.a());
      GaussianPriorDenoiser reference = new GaussianPriorDenoiser(c.m(), c.s(), schedule, null, null);
      ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.residualNablaDb().allSteps()
          .rewardWeighting(c.weighting()), policy, reference, new ConstantFlow(flow, c.a()),
          new LinearReward(c.a()).scaled(c.beta()));
      int d = c.m().length;
      int[] all = new int[n];
      Arrays.setAll(all, i -> i);
      Trajectory states = GeneratedChains.randomStates(Rng.of(c.seed()), n, 3, d);
      TransitionBatch b = TransitionBatch.of(sampler, states, all, c.weighting(), c.beta());
      ResidualNablaDbLoss.Scores scores = loss.scores(b);
      double fwd = loss.compute(b, scores).terms().forwardBalance();
      double scale = scores.scorePfRef().mul(scores.scorePfRef()).meanNumber().doubleValue();
      assertThat(fwd).as("%s: L_fwd vs mean score_pf_ref² = %g", c, scale).isLessThan(1e-10 * scale);
      assertThat(scores.scoreRNext().amaxNumber().doubleValue()).as("%s: the target is not zero", c)
          .isGreaterThan(0.01);
    });
  }

  private static double logFlowSlope(Tilt c, double abar) {
    return c.beta() * c.s() * Math.sqrt(abar) / (abar * c.s() + 1 - abar);
  }
}
