package io.github.nablagfn.examples;

import static io.github.nablagfn.core.testing.Tolerance.assertRelMax;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.objective.ResidualNablaDb;
import io.github.nablagfn.core.objective.ResidualNablaDbLoss;
import io.github.nablagfn.core.objective.RewardWeighting;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.objective.TransitionBatch;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.TwinFixtures;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One Residual ∇-DB iteration of the reference configuration against the PyTorch twin's fixture
 * {@code nabla_transition.safetensors}: policy θ ≠ θ_ref, randomised flow, untrained classifier reward,
 * β = 100, λ = 1, a mid transition (step 25) and the final one (step 49), batch 2, labels [2, 9].
 * Tolerances are the twin README's (max|a − b| ≤ tol · max|b|).
 */
class TwinNablaTransitionTest {
  private static Safetensors.Contents fix;
  private static UNet policy;
  private static UNet reference;
  private static UNet flow;
  private static ResidualNablaDbLoss loss;
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 50);

  @BeforeAll
  static void load() throws IOException {
    Path dir = TwinFixtures.dir();
    fix = TwinFixtures.read("nabla_transition.safetensors");
    policy = UNet.create(UNetConfig.small(), Rng.of(0)).load(dir.resolve("unet_policy.safetensors"));
    reference = UNet.create(UNetConfig.small(), Rng.of(0)).load(dir.resolve("unet.safetensors"));
    flow = UNet.create(UNetConfig.flowSmall(), Rng.of(0)).load(dir.resolve("flow.safetensors"));
    Classifier classifier = Classifier.create(1, 10, Rng.of(0)).load(dir.resolve("classifier.safetensors"));
    double beta = fix.get("nabla.beta").getDouble(0);
    ResidualNablaDb objective = Objectives.residualNablaDb().regScale(fix.get("nabla.reg_scale").getDouble(0));
    loss = new ResidualNablaDbLoss(objective, policy, reference, flow, new ClassifierReward(classifier).scaled(beta));
  }

  /** A batch holding the fixture's transitions of the given cases, stacked in that order. */
  private static TransitionBatch batch(String... cases) {
    INDArray[] states = new INDArray[51];
    INDArray[] outputs = new INDArray[50];
    int[] steps = new int[cases.length];
    for (int k = 0; k < cases.length; k++) {
      String p = "nabla." + cases[k] + ".";
      int step = (int) fix.get(p + "step").getLong(0);
      steps[k] = step;
      states[step] = fix.get(p + "x_t");
      states[step + 1] = fix.get(p + "x_prev");
      outputs[step] = fix.get(p + "eps_old");
    }
    Trajectory t = new Trajectory(states, outputs, fix.get("nabla.c"));
    return TransitionBatch.of(SAMPLER, t, steps, RewardWeighting.ALPHA_BAR, fix.get("nabla.beta").getDouble(0));
  }

  @Test
  void stepsTimestepsAndVariancesAreTheTwins() {
    for (String c : new String[] {"mid", "final"}) {
      String p = "nabla." + c + ".";
      int step = (int) fix.get(p + "step").getLong(0);
      assertThat(SAMPLER.step(step).timestep()).isEqualTo(fix.get(p + "t").getLong(0));
      assertThat(SAMPLER.step(step).variance()).isCloseTo(fix.get(p + "var").getDouble(0),
          within(1e-5 * fix.get(p + "var").getDouble(0)));
    }
  }

  @Test
  void everyStopGradientInputMatchesPerTransition() {
    for (String c : new String[] {"mid", "final"}) {
      String p = "nabla." + c + ".";
      double tol = c.equals("final") ? 2e-4 : 1e-4;
      ResidualNablaDbLoss.Scores s = loss.detailedScores(batch(c));
      assertRelMax(p + "eps_ref", s.epsRef(), fix.get(p + "eps_ref"), 1e-4);
      assertRelMax(p + "score_pf_ref", s.scorePfRef(), fix.get(p + "score_pf_ref"), tol);
      assertRelMax(p + "rev_pf", s.revPf(), fix.get(p + "rev_pf"), tol);
      assertRelMax(p + "rev_pf_ref", s.revPfRef(), fix.get(p + "rev_pf_ref"), tol);
      assertRelMax(p + "score_r", s.scoreR(), fix.get(p + "score_r"), 1e-4);
      // the training path's single execution gives their sum
      assertRelMax(p + "rev_pf + score_r", loss.scores(batch(c)).policyBackward(),
          fix.get(p + "rev_pf").add(fix.get(p + "score_r")), tol);
      assertRelMax(p + "score_r_next", s.scoreRNext(), fix.get(p + "score_r_next"), 1e-4);
    }
  }

  @Test
  void everyLossTermMatchesPerTransition() {
    for (String c : new String[] {"mid", "final"}) {
      String p = "nabla." + c + ".";
      double tol = c.equals("final") ? 2e-4 : 1e-4;
      ResidualNablaDbLoss.Terms t = loss.compute(batch(c)).terms();
      assertThat(t.forwardBalance()).as(p + "loss_fwd").isCloseTo(fix.get(p + "loss_fwd").getDouble(0),
          within(tol * fix.get(p + "loss_fwd").getDouble(0)));
      assertThat(t.backwardBalance()).as(p + "loss_bwd").isCloseTo(fix.get(p + "loss_bwd").getDouble(0),
          within(tol * fix.get(p + "loss_bwd").getDouble(0)));
      assertThat(t.terminal()).as(p + "loss_term").isCloseTo(fix.get(p + "loss_term").getDouble(0),
          within(tol * Math.max(fix.get(p + "loss_term").getDouble(0), 1e-12)));
      assertThat(t.regulariser()).as(p + "loss_reg").isCloseTo(fix.get(p + "loss_reg").getDouble(0),
          within(tol * fix.get(p + "loss_reg").getDouble(0)));
      assertThat(t.total()).as(p + "loss").isCloseTo(fix.get(p + "loss").getDouble(0),
          within(tol * fix.get(p + "loss").getDouble(0)));
    }
  }

  @Test
  void totalGradientsNormsAndOneAdamWStepMatch() {
    ResidualNablaDbLoss.Result r = loss.compute(batch("mid", "final"));
    double total = fix.get("nabla.total").getDouble(0);
    assertThat(r.terms().total()).as("total").isCloseTo(total, within(2e-4 * total));
    Map<String, INDArray> gu = r.policyGradients();
    Map<String, INDArray> gf = r.flowGradients();
    for (String name : fix.tensors().keySet()) {
      if (name.startsWith("grad.unet.")) {
        assertRelMax(name, gu.get(name.substring(10)), fix.get(name), 2e-4);
      } else if (name.startsWith("grad.flow.")) {
        assertRelMax(name, gf.get(name.substring(10)), fix.get(name), 2e-4);
      }
    }
    double nu = AdamW.globalNorm(gu);
    double nf = AdamW.globalNorm(gf);
    assertThat(nu).as("grad_norm.unet").isCloseTo(fix.get("grad_norm.unet").getDouble(0),
        within(1e-5 * fix.get("grad_norm.unet").getDouble(0)));
    assertThat(nf).as("grad_norm.flow").isCloseTo(fix.get("grad_norm.flow").getDouble(0),
        within(1e-5 * fix.get("grad_norm.flow").getDouble(0)));
    // one clipped AdamW step on copies (θ: lr 1e-4, wd 1e-4; φ: lr 1e-3, wd 1e-2; clip 1.0 each)
    var thetaCopy = policy.parameters().copy();
    var phiCopy = flow.parameters().copy();
    AdamW theta = AdamW.lr(1e-4).weightDecay(1e-4).clipNorm(1.0);
    AdamW phi = AdamW.lr(1e-3).weightDecay(1e-2).clipNorm(1.0);
    theta.step(thetaCopy, copy(gu), theta.newState(thetaCopy));
    phi.step(phiCopy, copy(gf), phi.newState(phiCopy));
    for (String name : fix.tensors().keySet()) {
      if (name.startsWith("step.unet.")) {
        assertMaxAbs(name, thetaCopy.get(name.substring(10)), fix.get(name), 2e-4);
      } else if (name.startsWith("step.flow.")) {
        assertMaxAbs(name, phiCopy.get(name.substring(10)), fix.get(name), 2e-3);
      }
    }
  }

  private static Map<String, INDArray> copy(Map<String, INDArray> m) {
    Map<String, INDArray> c = new LinkedHashMap<>();
    m.forEach((k, v) -> c.put(k, v.dup()));
    return c;
  }

  /** Twin README: step.* within 2·lr absolute per element. */
  private static void assertMaxAbs(String what, INDArray a, INDArray b, double tol) {
    assertThat(a.castTo(b.dataType()).sub(b).amaxNumber().doubleValue()).as(what).isLessThanOrEqualTo(tol);
  }

  @Test
  void flowOutputsMatch() {
    // g_t = g_φ(x_t, t) for both cases; via the learned log-flow machinery's flow graph
    for (String c : new String[] {"mid", "final"}) {
      String p = "nabla." + c + ".";
      int t = (int) fix.get(p + "t").getLong(0);
      INDArray g = new io.github.nablagfn.core.model.DenoiserGraph(flow).predict(fix.get(p + "x_t"), new int[] {t, t},
          fix.get("nabla.c"));
      assertRelMax(p + "g_t", g, fix.get(p + "g_t"), 1e-4);
    }
    INDArray g0 = new io.github.nablagfn.core.model.DenoiserGraph(flow).predict(fix.get("nabla.final.x_prev"),
        new int[] {0, 0}, fix.get("nabla.c"));
    assertRelMax("nabla.final.g_0", g0, fix.get("nabla.final.g_0"), 1e-4);
  }
}
