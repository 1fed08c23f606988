package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.QuadraticReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.toy.GaussianMixtureData;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;

/**
 * Mode keeping (issue: baselines): four equal modes on a circle, an MLP denoiser pretrained on them, and
 * the same budget of fine-tuning at the same β toward a bounded reward that favours mode 0. The tilted
 * target p_ref·exp(βR) still gives every mode ≥ 7 % of the mass (closed form: 0.52 / 0.21 / 0.08 /
 * 0.20), so a method that keeps it keeps every mode; maximising the reward alone (ReFL, DRaFT-1) drives
 * the mass onto mode 0. A mode counts as kept with ≥ 1 % of 2000 samples (nearest centre): for a true
 * weight of 7 % that is 7 standard errors (0.0057) away, for a lost mode (≤ 0.1 %) 3 away.
 * The exact weights Residual ∇-DB reaches are measured, not asserted (docs/trainer.md): it moves toward
 * them slowly.
 */
@Tag("slow")
class MixtureModesTest {
  private static final GaussianMixtureData DATA = GaussianMixtureData.circle(4, 2.0, 0.25);
  private static final Sampler SAMPLER = Ddim.of(NoiseSchedule.ddpmDefault(), 20);
  private static final double BETA = 1.0;
  private static final int ITERATIONS = 300;
  private static MlpDenoiser base;

  @BeforeAll
  static void pretrain() {
    base = MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1));
    new Pretrainer(base, NoiseSchedule.ddpmDefault(), AdamW.lr(2e-3).weightDecay(0), 512, 5)
        .learningRate(LearningRate.cosine(2e-3, 100, 2500, 0.05)).fit(DATA, 2500);
  }

  private static int modesKept(MlpDenoiser policy) {
    int n = 2000;
    INDArray x = SAMPLER.sample(new DenoiserGraph(policy), Rng.of(11).gaussian(n, 2), null, Rng.of(12));
    int[] counts = new int[4];
    for (int i = 0; i < n; i++) {
      counts[DATA.nearestMode(x.getRow(i).toDoubleVector())]++;
    }
    int kept = 0;
    for (int c : counts) {
      kept += c >= 0.01 * n ? 1 : 0;
    }
    System.out.println("mode counts " + java.util.Arrays.toString(counts));
    return kept;
  }

  private static int fineTune(Objective objective, boolean flow) {
    MlpDenoiser policy = (MlpDenoiser) base.copy();
    NablaTrainer.builder().policy(policy)
        .flow(flow ? FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 2, 32, 0, PredictionType.EPSILON)
            .withZeroOutput(), Rng.of(2))) : FlowModel.none())
        .sampler(SAMPLER).reward(new QuadraticReward(DATA.centres()[0], 2.07).scaled(BETA)).objective(objective)
        .policyOptimizer(AdamW.lr(1e-3).betas(0.9, 0.95).weightDecay(0).clipNorm(1.0))
        .flowOptimizer(AdamW.lr(3e-3).weightDecay(0).clipNorm(1.0))
        .onNonFinite(NablaTrainer.NonFinitePolicy.SKIP) // a diverging baseline keeps its last finite state
        .batchSize(64).seed(3).build().fit(ITERATIONS);
    return modesKept(policy);
  }

  @Test
  void theBaseModelHasEveryMode() {
    assertThat(modesKept(base)).isEqualTo(4);
  }

  @Test
  void residualNablaDbKeepsEveryModeWhileReflAndDraft1LoseSome() {
    assertThat(fineTune(Objectives.residualNablaDb().timestepFraction(0.2), true)).as("Residual ∇-DB").isEqualTo(4);
    assertThat(fineTune(Objectives.refl(), false)).as("ReFL").isLessThan(4);
    assertThat(fineTune(Objectives.draftK(1), false)).as("DRaFT-1").isLessThan(4);
  }
}
