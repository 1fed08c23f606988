package io.github.nablagfn.core.objective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.reward.QuadraticReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.GaussianStep;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;

import io.github.nablagfn.core.testing.LinearDenoiser;
import io.github.nablagfn.core.testing.Trajectories;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ResidualNablaDbLossTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final Sampler SAMPLER = Ddim.of(SCHEDULE, 10);

  @Test
  void policyEqualToReferenceWithZeroFlowAndZeroBetaGivesExactlyZeroLossAndGradients() {
    MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, PredictionType.EPSILON), Rng.of(1));
    MlpDenoiser flow = MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 2, 8, 0, PredictionType.EPSILON)
        .withZeroOutput(), Rng.of(2));
    ResidualNablaDb objective = Objectives.residualNablaDb();
    ResidualNablaDbLoss loss = new ResidualNablaDbLoss(objective, policy, policy.copy(), flow,
        new LinearReward(new double[] {1, -2}).scaled(0.0));
    Trajectory traj = Trajectories.sample(policy, SAMPLER, 6, 3);
    TransitionBatch b = TransitionBatch.of(SAMPLER, traj, new int[] {1, 4, 9}, RewardWeighting.ALPHA_BAR, 0.0);
    ResidualNablaDbLoss.Result r = loss.compute(b);
    assertThat(r.terms().forwardBalance()).isZero();
    assertThat(r.terms().backwardBalance()).isZero();
    assertThat(r.terms().terminal()).isZero();
    assertThat(r.terms().regulariser()).isZero();
    for (Map<String, INDArray> grads : List.of(r.policyGradients(), r.flowGradients())) {
      assertThat(grads).isNotEmpty();
      grads.forEach((k, g) -> assertThat(g.amaxNumber().doubleValue()).as("gradient of %s", k).isZero());
    }
  }

  /**
   * The prior regulariser compares ε_θ with ε at sampling time. ND4J's kernels round differently for
   * different batch sizes (the sampling batch has B rows, the loss batch K·B), so with θ unchanged it
   * is not bit-exactly 0 but at float32 rounding level: |Δε| ≤ 1e-5 · max|ε|.
   */
  @Test
  void regulariserOfAnUnchangedPolicyIsAtFloatRoundingLevel() {
    MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, PredictionType.EPSILON), Rng.of(1));
    ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.residualNablaDb().regScale(1.0), policy,
        policy.copy(), null, new LinearReward(new double[] {1, -2}).scaled(0.0));
    Trajectory traj = Trajectories.sample(policy, SAMPLER, 6, 3);
    TransitionBatch b = TransitionBatch.of(SAMPLER, traj, new int[] {1, 4, 9}, RewardWeighting.ALPHA_BAR, 0.0);
    ResidualNablaDbLoss.Result r = loss.compute(b);
    double scale = b.epsOld.amaxNumber().doubleValue();
    assertThat(r.terms().regulariser()).isLessThanOrEqualTo(Math.pow(1e-5 * scale, 2));
    assertThat(r.scores().epsRef().sub(b.epsOld).amaxNumber().doubleValue()).isLessThanOrEqualTo(1e-5 * scale);
  }

  /** With a linear denoiser ε = xWᵀ + b every stop-gradient score and the forward loss are closed forms. */
  @Test
  void scoresFromAutodiffEqualTheClosedForms() {
    qt().withFixedSeed(41).withExamples(12).forAll(GeneratedChains.cases())
        .assuming(c -> c.chain().stochastic()).checkAssert(c -> {
      Rng rng = Rng.of(c.seed());
      int d = c.dim();
      int batch = c.batch();
      Sampler sampler = c.chain().sampler(PredictionType.EPSILON);
      int n = sampler.numSteps();
      LinearDenoiser policy = new LinearDenoiser(rng.gaussian(d, d).muli(0.3), rng.gaussian(d).muli(0.1));
      LinearDenoiser ref = new LinearDenoiser(rng.gaussian(d, d).muli(0.3), rng.gaussian(d).muli(0.1));
      double[] centre = rng.gaussian(d).muli(0.5).castTo(DataType.DOUBLE).toDoubleVector();
      double width = 0.7;
      double beta = c.beta();
      ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.residualNablaDb(), policy, ref, null,
          new QuadraticReward(centre, width).scaled(beta));
      // O(1) states, as in a sampled chain; x_s anywhere near x_t (any transition is a valid input)
      Trajectory traj = GeneratedChains.randomStates(rng, n, batch, d);
      int[] steps = {rng.nextInt(n - 1), n - 1};
      TransitionBatch b = TransitionBatch.of(sampler, traj, steps, RewardWeighting.ALPHA_BAR, beta);
      ResidualNablaDbLoss.Scores s = loss.detailedScores(b);
      ResidualNablaDbLoss.Scores fast = loss.scores(b); // rev_pf + score_r in one execution
      double[][] wp = policy.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
      double[] bp = policy.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector();
      double[][] wr = ref.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
      double[] br = ref.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector();
      double fwdSum = 0;
      double kappa = 2 + 30 * rng.nextDouble(); // cap of the forward weighting
      double fwdCapped = 0; // each row's squared residual times min(1, κ²/s²), s = |m_o|/σ²
      int rows = b.rows();
      double[][] expScorePfRef = new double[rows][];
      double[][] expRevPf = new double[rows][];
      double[][] expRevPfRef = new double[rows][];
      double[][] expScoreR = new double[rows][];
      double[][] expScoreRNext = new double[rows][];
      for (int row = 0; row < rows; row++) {
        int k = row / batch;
        GaussianStep st = sampler.step(steps[k]);
        boolean fin = steps[k] == n - 1;
        double[] x = b.xT.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
        double[] xs = b.xNext.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
        double[] epsP = affine(wp, bp, x);
        double[] epsR = affine(wr, br, x);
        double inv = 1 / st.variance();
        double[] scorePf = new double[d];
        double[] scorePfRef = new double[d];
        double[] r = new double[d];
        double[] rRef = new double[d];
        for (int j = 0; j < d; j++) {
          double muP = st.meanFromSample() * x[j] + st.meanFromOutput() * epsP[j];
          double muR = st.meanFromSample() * x[j] + st.meanFromOutput() * epsR[j];
          scorePf[j] = (muP - xs[j]) * inv;
          scorePfRef[j] = (muR - xs[j]) * inv;
          r[j] = (xs[j] - muP) * inv;
          rRef[j] = (xs[j] - muR) * inv;
        }
        double[] revPf = chain(st.meanFromSample(), st.meanFromOutput(), wp, r);
        double[] revPfRef = chain(st.meanFromSample(), st.meanFromOutput(), wr, rRef);
        // reward score at x_t: γ_t β (a_x q + a_o q W), q = −(x̂0 − centre)/width²
        double[] scoreR = rewardScore(x, wp, bp, st.x0FromSample(), st.x0FromOutput(), centre, width,
            st.alphaCumprod() * beta);
        double[] scoreRNext;
        if (fin) {
          scoreRNext = rewardScore(xs, wp, bp, 1, 0, centre, width, beta);
        } else {
          GaussianStep next = sampler.step(steps[k] + 1);
          scoreRNext = rewardScore(xs, wp, bp, next.x0FromSample(), next.x0FromOutput(), centre, width,
              next.alphaCumprod() * beta);
        }
        expScorePfRef[row] = scorePfRef;
        expRevPf[row] = revPf;
        expRevPfRef[row] = revPfRef;
        expScoreR[row] = scoreR;
        expScoreRNext[row] = scoreRNext;
        double sens = Math.abs(st.meanFromOutput()) / st.variance();
        double capWeight = Math.min(1, kappa * kappa / (sens * sens));
        for (int j = 0; j < d; j++) {
          double e = scorePf[j] - scorePfRef[j] - scoreRNext[j];
          fwdSum += e * e;
          fwdCapped += e * e * capWeight;
        }
      }
      // Twin README tolerance for scores amplified by 1/σ²: 2e-4 of the tensor's largest magnitude.
      assertRelMax("score_pf_ref", s.scorePfRef(), Nd4j.createFromArray(expScorePfRef), 2e-4);
      assertRelMax("rev_pf", s.revPf(), Nd4j.createFromArray(expRevPf), 2e-4);
      assertRelMax("rev_pf_ref", s.revPfRef(), Nd4j.createFromArray(expRevPfRef), 2e-4);
      assertRelMax("score_r", s.scoreR(), Nd4j.createFromArray(expScoreR), 1e-4);
      double[][] expPolicyBwd = new double[rows][d];
      for (int row = 0; row < rows; row++) {
        for (int j = 0; j < d; j++) {
          expPolicyBwd[row][j] = expRevPf[row][j] + expScoreR[row][j];
        }
      }
      assertRelMax("policy_bwd", fast.policyBackward(), Nd4j.createFromArray(expPolicyBwd), 2e-4);
      assertThat(fast.revPf()).as("parts are not computed on the fast path").isNull();
      assertRelMax("score_r_next", s.scoreRNext(), Nd4j.createFromArray(expScoreRNext), 1e-4);
      double fwd = fwdSum / (rows * d);
      assertThat(loss.compute(b, s).terms().forwardBalance()).isCloseTo(fwd, within(1e-4 * fwd + 1e-9));
      ResidualNablaDbLoss capped = new ResidualNablaDbLoss(Objectives.residualNablaDb()
          .forwardWeighting(ForwardWeighting.capped(kappa)), policy, ref, null,
          new QuadraticReward(centre, width).scaled(beta));
      double fwdW = fwdCapped / (rows * d);
      assertThat(capped.compute(b, s).terms().forwardBalance()).as("L_fwd with rows weighted min(1, κ²/s²)")
          .isCloseTo(fwdW, within(1e-4 * fwdW + 1e-12));
    });
  }

  /**
   * Plain ∇-DB replaces the reference terms by the noising kernel P_B(x_t | x_s) = N(r x_s, (1 − r²) I),
   * r² = ᾱ_t/ᾱ_s (ᾱ_s = ᾱ_0 after the final step): ∇_{x_s} log P_B = r(x_t − r x_s)/(1 − r²) and
   * ∇_{x_t} log P_B = −(x_t − r x_s)/(1 − r²), computed here from the schedule's table.
   */
  @Test
  void plainNablaDbBalancesAgainstTheNoisingKernel() {
    qt().withFixedSeed(43).withExamples(10).forAll(GeneratedChains.cases())
        .assuming(c -> c.chain().stochastic()).checkAssert(c -> {
      Rng rng = Rng.of(c.seed());
      int d = c.dim();
      int batch = c.batch();
      Sampler sampler = c.chain().sampler(PredictionType.EPSILON);
      NoiseSchedule schedule = c.chain().schedule();
      int n = sampler.numSteps();
      LinearDenoiser policy = new LinearDenoiser(rng.gaussian(d, d).muli(0.3), rng.gaussian(d).muli(0.1));
      double beta = c.beta();
      double[] a = rng.gaussian(d).castTo(DataType.DOUBLE).toDoubleVector();
      ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.nablaDb(), policy, policy.copy(), null,
          new LinearReward(a).scaled(beta));
      int[] steps = {rng.nextInt(n - 1), n - 1};
      TransitionBatch b = TransitionBatch.of(sampler, GeneratedChains.randomStates(rng, n, batch, d), steps,
          RewardWeighting.ALPHA_BAR, beta);
      ResidualNablaDbLoss.Scores s = loss.scores(b);
      assertThat(s.epsRef()).as("no reference is evaluated").isNull();
      double[][] wp = policy.parameters().get("w").castTo(DataType.DOUBLE).toDoubleMatrix();
      double[] bp = policy.parameters().get("b").castTo(DataType.DOUBLE).toDoubleVector();
      int rows = b.rows();
      double[][] expBase = new double[rows][d];
      double[][] expRevBase = new double[rows][d];
      double fwdSum = 0;
      for (int row = 0; row < rows; row++) {
        int k = row / batch;
        GaussianStep st = sampler.step(steps[k]);
        boolean fin = steps[k] == n - 1;
        double abarS = fin ? schedule.alphaCumprod(0) : schedule.alphaCumprod(sampler.step(steps[k] + 1).timestep());
        double r2 = schedule.alphaCumprod(st.timestep()) / abarS;
        double[] x = b.xT.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
        double[] xs = b.xNext.getRow(row).castTo(DataType.DOUBLE).toDoubleVector();
        double[] eps = affine(wp, bp, x);
        // score_r(x_s): linear reward, γ_s β a^T x̂0 differentiated through the linear denoiser
        double[] scoreRNext = fin ? java.util.Arrays.stream(a).map(v -> beta * v).toArray()
            : chain(sampler.step(steps[k] + 1).x0FromSample(), sampler.step(steps[k] + 1).x0FromOutput(), wp, a);
        for (int j = 0; j < d; j++) {
          if (!fin) {
            scoreRNext[j] *= sampler.step(steps[k] + 1).alphaCumprod() * beta;
          }
          double diff = (x[j] - Math.sqrt(r2) * xs[j]) / (1 - r2);
          expBase[row][j] = Math.sqrt(r2) * diff;
          expRevBase[row][j] = -diff;
          double scorePf = (st.meanFromSample() * x[j] + st.meanFromOutput() * eps[j] - xs[j]) / st.variance();
          double e = scorePf - expBase[row][j] - scoreRNext[j];
          fwdSum += e * e;
        }
      }
      assertRelMax("grad_{x_s} log P_B", s.scorePfRef(), Nd4j.createFromArray(expBase), 1e-5);
      assertRelMax("grad_{x_t} log P_B", s.revPfRef(), Nd4j.createFromArray(expRevBase), 1e-5);
      double fwd = fwdSum / (rows * d);
      assertThat(loss.compute(b, s).terms().forwardBalance()).isCloseTo(fwd, within(1e-4 * fwd + 1e-9));
    });
  }

  /** Chunked execution (memory-bounded) gives the single execution's terms, scores and gradients. */
  @Test
  void chunkedExecutionEqualsOneExecution() {
    MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, PredictionType.EPSILON), Rng.of(1));
    MlpDenoiser reference = policy.copy();
    policy.parameters().get(policy.parameters().names().iterator().next()).addi(0.05);
    MlpDenoiser flow = MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 2, 8, 0, PredictionType.EPSILON), Rng.of(2));
    ResidualNablaDb objective = Objectives.residualNablaDb().regScale(0.5);
    Trajectory traj = Trajectories.sample(reference, SAMPLER, 5, 3); // ε at sampling time ≠ ε_θ: L_reg > 0
    TransitionBatch b = TransitionBatch.of(SAMPLER, traj, new int[] {0, 4, 9}, RewardWeighting.ALPHA_BAR, 3.0);
    ResidualNablaDbLoss.Result whole = new ResidualNablaDbLoss(objective, policy, reference, flow,
        new QuadraticReward(new double[] {0.5, -1}, 0.8).scaled(3.0)).compute(b);
    ResidualNablaDbLoss.Result chunked = new ResidualNablaDbLoss(objective, policy, reference, flow,
        new QuadraticReward(new double[] {0.5, -1}, 0.8).scaled(3.0)).rowsPerExecution(4).compute(b);
    double[] a = {whole.terms().forwardBalance(), whole.terms().backwardBalance(), whole.terms().terminal(), whole.terms().regulariser()};
    double[] c = {chunked.terms().forwardBalance(), chunked.terms().backwardBalance(), chunked.terms().terminal(),
        chunked.terms().regulariser()};
    for (int i = 0; i < 4; i++) {
      assertThat(a[i]).as("term %d", i).isPositive();
      assertThat(c[i]).as("term %d", i).isCloseTo(a[i], within(1e-5 * a[i]));
    }
    assertRelMax("policy_bwd", chunked.scores().policyBackward(), whole.scores().policyBackward(), 1e-5);
    assertRelMax("score_r_next", chunked.scores().scoreRNext(), whole.scores().scoreRNext(), 1e-5);
    whole.policyGradients().forEach((k, g) -> assertRelMax("policy " + k, chunked.policyGradients().get(k), g, 1e-4));
    whole.flowGradients().forEach((k, g) -> assertRelMax("flow " + k, chunked.flowGradients().get(k), g, 1e-4));
  }

  private static double[] affine(double[][] w, double[] b, double[] x) {
    double[] y = new double[b.length];
    for (int i = 0; i < b.length; i++) {
      y[i] = b[i];
      for (int k = 0; k < x.length; k++) {
        y[i] += w[i][k] * x[k];
      }
    }
    return y;
  }

  /** Row vector r times (a·I + c·W): r_i·a + c·Σ_j r_j W_ji. */
  private static double[] chain(double a, double c, double[][] w, double[] r) {
    double[] g = new double[r.length];
    for (int i = 0; i < r.length; i++) {
      g[i] = a * r[i];
      for (int j = 0; j < r.length; j++) {
        g[i] += c * r[j] * w[j][i];
      }
    }
    return g;
  }

  private static double[] rewardScore(double[] x, double[][] w, double[] b, double ax, double ao, double[] centre,
      double width, double weight) {
    double[] eps = affine(w, b, x);
    double[] q = new double[x.length];
    for (int j = 0; j < x.length; j++) {
      double x0 = ax * x[j] + ao * eps[j];
      q[j] = -(x0 - centre[j]) / (width * width);
    }
    double[] g = chain(ax, ao, w, q);
    for (int j = 0; j < g.length; j++) {
      g[j] *= weight;
    }
    return g;
  }

  @Test
  void forwardTermGradientMatchesFiniteDifferences() {
    MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 2, 8, 0, PredictionType.EPSILON), Rng.of(5));
    MlpDenoiser ref = policy.copy();
    policy.parameters().asMap().values().forEach(p -> p.addi(Rng.of(6).gaussian(p.shape()).muli(0.05)));
    ResidualNablaDbLoss loss = new ResidualNablaDbLoss(Objectives.residualNablaDb(), policy, ref, null,
        new LinearReward(new double[] {1, 0.5}).scaled(2.0));
    Trajectory traj = Trajectories.sample(policy, SAMPLER, 5, 8);
    TransitionBatch b = TransitionBatch.of(SAMPLER, traj, new int[] {3, 6}, RewardWeighting.ALPHA_BAR, 2.0);
    ResidualNablaDbLoss.Scores s = loss.scores(b);
    ResidualNablaDbLoss.Result r = loss.compute(b, s);
    Rng pick = Rng.of(7);
    int checked = 0;
    for (String name : policy.parameters().names()) {
      INDArray p = policy.parameters().get(name);
      INDArray g = r.policyGradients().get(name);
      for (int trial = 0; trial < 2; trial++) {
        long idx = pick.nextInt((int) p.length());
        double h = 1e-2;
        double orig = p.getDouble(idx);
        p.putScalar(idx, orig + h);
        double plus = loss.compute(b, s).terms().forwardBalance();
        p.putScalar(idx, orig - h);
        double minus = loss.compute(b, s).terms().forwardBalance();
        p.putScalar(idx, orig);
        double fd = (plus - minus) / (2 * h);
        double an = g.getDouble(idx);
        assertThat(an).as("dL_fwd/d%s[%d]: finite difference %g", name, idx, fd)
            .isCloseTo(fd, within(0.02 * Math.abs(fd) + 1e-3 * r.terms().forwardBalance() + 1e-6));
        checked++;
      }
    }
    assertThat(checked).isGreaterThan(10);
  }
}
