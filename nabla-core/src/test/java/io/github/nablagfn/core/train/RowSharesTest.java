package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.testing.Measured;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Splitting an iteration's rows into shares ({@link NablaTrainer#computeRows}) changes nothing but float
 * rounding: an execution that computes the batch as three shares of one trainer (what a distributed
 * execution does with several) gives the single-share step.
 *
 * <p>The two arms cannot agree bit for bit: each share samples its rows in a batch of its own size, and
 * oneDNN's AVX2 matrix-multiply kernels round a row differently depending on how many rows the batch
 * has (with {@code ONEDNN_MAX_CPU_ISA=AVX2} a row's reward moves by up to 4.5e-7 relative; with the
 * AVX-512, SSE4.1, one-thread and OpenBLAS-Haswell settings by 0). Tolerances are measured bounds: the
 * largest relative difference over the six settings of {@code scripts/test-matrix.sh} (default,
 * AVX2 for oneDNN and OpenBLAS, each alone, SSE4.1, one thread), times at least 15:
 * <ul>
 *   <li>{@link #REL} 1e-5 for losses, reward statistics, gradient norms and parameters (largest
 *       measured: 2.5e-7, DRaFT-LV's loss);
 *   <li>{@link #DDPO_GRAD_REL} 1e-3 for the policy-gradient norm of DDPO (largest measured: 6.0e-5 under
 *       AVX2) and of the DB family (7.4e-7 with AVX-512), whose gradients go through the same log-density:
 *       the likelihood-ratio gradient ∝ (x_s − μ)/σ² recomputes x_s − μ = σz from a μ that
 *       the shares' sampling rounded differently, so u·|μ|/(σ|z|) amplifies the rows' 1e-7 to 1e-5;
 *   <li>{@link #REWARD_REL} 1e-5 for a row's reward (largest measured: 4.5e-7);
 *   <li>{@link #INNER_REL} 1e-4 for Residual ∇-DB with two inner epochs (largest measured: 1.3e-6, the
 *       loss under AVX2; 1.2e-8 with AVX-512): the second update's loss, in score units, is ≈ 2e5 after
 *       one AdamW step moved the last steps' means (sensitivity 1/σ² up to 376), so the shares' first-
 *       update rounding reaches it amplified.
 * </ul>
 */
class RowSharesTest {
  private static final double REL = 1e-5;
  private static final double DDPO_GRAD_REL = 1e-3;
  private static final double REWARD_REL = 1e-5;
  private static final double INNER_REL = 1e-4;
  private static final String[] FIELDS = {"loss", "rewardMean", "rewardStd", "gradNormPolicy", "gradNormFlow"};

  private static Objective objective(String name) {
    return switch (name) {
      case "residual" -> Objectives.residualNablaDb().timestepFraction(0.3);
      case "residual-inner" -> Objectives.residualNablaDb().timestepFraction(0.3).innerEpochs(2).regScale(0.5);
      case "draft-lv" -> Objectives.draftLv(3);
      case "align-prop" -> new io.github.nablagfn.core.objective.AlignProp(true);
      case "ddpo" -> Objectives.ddpo().innerEpochs(2).clipRange(0.2);
      case "dag-db" -> Objectives.dagDb().timestepFraction(0.3);
      case "residual-db" -> Objectives.residualDb().timestepFraction(0.3);
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static NablaTrainer.Builder builder(String name) {
    boolean nabla = name.startsWith("residual") || name.equals("dag-db");
    return NablaTrainer.builder()
        .policy(MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 3, PredictionType.EPSILON), Rng.of(1)))
        .flow(nabla ? FlowModel.of(MlpDenoiser.create(
            new MlpDenoiser.Config(2, 8, 2, 8, 3, PredictionType.EPSILON).withZeroOutput(), Rng.of(2)))
            : FlowModel.none())
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 8)).reward(new LinearReward(new double[] {1, -0.5}).scaled(2))
        .objective(objective(name)).batchSize(7).seed(3);
  }

  /** Rows [0, 2), [2, 3), [3, 7), combined in reverse order. */
  private static final Execution THREE_SHARES = (trainer, task) -> trainer.computeRows(task, 3, 7)
      .plus(trainer.computeRows(task, 2, 3)).plus(trainer.computeRows(task, 0, 2));

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"residual", "residual-inner", "draft-lv", "align-prop", "ddpo", "dag-db", "residual-db"})
  void threeSharesGiveTheSingleShareStep(String name) {
    NablaTrainer whole = builder(name).build();
    NablaTrainer shared = builder(name).execution(THREE_SHARES).build();
    for (int i = 0; i < 2; i++) {
      IterationRecord a = whole.step();
      IterationRecord b = shared.step();
      double[] av = {a.loss(), a.rewardMean(), a.rewardStd(), a.gradNormPolicy(), a.gradNormFlow()};
      double[] bv = {b.loss(), b.rewardMean(), b.rewardStd(), b.gradNormPolicy(), b.gradNormFlow()};
      for (int k = 0; k < av.length; k++) {
        boolean likelihoodRatio = name.equals("ddpo") || name.endsWith("-db");
        double rel = likelihoodRatio && FIELDS[k].equals("gradNormPolicy") ? DDPO_GRAD_REL
            : name.equals("residual-inner") ? INNER_REL : REL;
        Measured.assertWithin("RowSharesTest." + name + ".iteration" + i + "." + FIELDS[k], bv[k], av[k],
            rel * Math.max(1, Math.abs(av[k])));
      }
    }
    whole.policy().parameters().asMap().forEach((n, p) -> {
      double diff = p.sub(shared.policy().parameters().get(n)).amaxNumber().doubleValue();
      Measured.assertDiff("RowSharesTest." + name + ".parameters", diff,
          (name.equals("residual-inner") ? INNER_REL : REL) * Math.max(1, p.amaxNumber().doubleValue()));
    });
  }

  @Test
  void sharesAreWeightedByTheirRowsAndMustCoverTheBatchOnce() {
    NablaTrainer t = builder("residual").build();
    RowTask task = new RowTask.SampleAndLoss(0);
    RowResult all = t.computeRows(task, 0, 7);
    RowResult parts = t.computeRows(task, 0, 4).plus(t.computeRows(task, 4, 7));
    Measured.assertWithin("RowSharesTest.weighted.forwardTerm", parts.terms().get("forward_balance"),
        all.terms().get("forward_balance"), REL * Math.abs(all.terms().get("forward_balance")));
    float[] pr = parts.rewards(7);
    float[] ar = all.rewards(7);
    for (int r = 0; r < ar.length; r++) {
      Measured.assertWithin("RowSharesTest.weighted.reward", pr[r], ar[r], REWARD_REL * Math.max(1, Math.abs(ar[r])));
    }
    assertThatThrownBy(() -> t.computeRows(task, 0, 4).plus(t.computeRows(task, 3, 7)))
        .hasMessageContaining("rows [3, 7) overlap rows [0, 4)");
    assertThatThrownBy(() -> t.computeRows(task, 0, 4).rewards(7)).hasMessageContaining("rows [0, 4) of a batch of 7");
    assertThatThrownBy(() -> t.computeRows(task, 5, 9)).hasMessageContaining("rows [5, 9) of a batch of 7");
    // an execution that leaves rows out is caught before any update
    NablaTrainer partial = builder("residual").execution((tr, tk) -> tr.computeRows(tk, 0, 5)).build();
    INDArray before = partial.policy().parameters().asMap().values().iterator().next().dup();
    assertThatThrownBy(partial::step).hasMessageContaining("rows [0, 5) of a batch of 7");
    assertThat(partial.policy().parameters().asMap().values().iterator().next()).isEqualTo(before);
  }

  @Test
  void workerStateRoundTripsAndTheConfigurationNamesTheReference() {
    NablaTrainer a = builder("residual").build();
    a.step();
    NablaTrainer b = builder("residual").build();
    b.loadWorkerState(a.workerState());
    a.policy().parameters().asMap().forEach((n, p) -> assertThat(b.policy().parameters().get(n)).isEqualTo(p));
    a.flow().parameters().asMap().forEach((n, p) -> assertThat(b.flow().parameters().get(n)).isEqualTo(p));
    assertThat(b.workerConfiguration()).isEqualTo(a.workerConfiguration());
    NablaTrainer other = builder("residual").policy(MlpDenoiser.create(
        new MlpDenoiser.Config(2, 16, 2, 8, 3, PredictionType.EPSILON), Rng.of(99))).build();
    assertThat(other.workerConfiguration().get("referenceValues"))
        .isNotEqualTo(a.workerConfiguration().get("referenceValues"));
    HostTensors wrong = HostTensors.of(Map.of("policy.nope", Nd4j.zeros(DataType.FLOAT, 2)));
    assertThatThrownBy(() -> b.loadWorkerState(wrong)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void hostTensorsAddScaleAndRefuseWhatTheyCannotHold() {
    HostTensors a = HostTensors.of(Map.of("w", Nd4j.createFromArray(1f, 2f, 3f)));
    HostTensors b = HostTensors.of(Map.of("w", Nd4j.createFromArray(0.5f, 0.5f, 0.5f),
        "v", Nd4j.createFromArray(new float[][] {{1f}})));
    HostTensors sum = a.plus(b).times(2);
    assertThat(sum.get("w")).isEqualTo(Nd4j.createFromArray(3f, 5f, 7f));
    assertThat(sum.get("v").shape()).containsExactly(1, 1);
    assertThat(sum.count()).isEqualTo(4);
    assertThatThrownBy(() -> a.plus(HostTensors.of(Map.of("w", Nd4j.zeros(DataType.FLOAT, 2)))))
        .hasMessageContaining("tensor 'w' has shape [3]");
    assertThatThrownBy(() -> HostTensors.of(Map.of("d", Nd4j.zeros(DataType.DOUBLE, 2))))
        .hasMessageContaining("tensor 'd' is DOUBLE; expected FLOAT");
    assertThatThrownBy(() -> a.get("x")).hasMessageContaining("no tensor 'x'");
    assertThat(new TreeMap<>(RowResult.empty().rows())).isEmpty();
    assertThat(List.of(RowResult.empty().shareMillis()[0])).containsExactly(0.0);
  }
}
