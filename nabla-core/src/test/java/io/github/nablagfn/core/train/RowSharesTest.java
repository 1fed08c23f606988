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
 * execution does with several) gives the single-share step. Tolerance: 1e-5 of the magnitude, far above
 * the float32 rounding (6e-8) of a toy step's few hundred operations and far below any real difference.
 */
class RowSharesTest {
  private static final double REL = 1e-5;

  private static Objective objective(String name) {
    return switch (name) {
      case "residual" -> Objectives.residualNablaDb().timestepFraction(0.3);
      case "draft-lv" -> Objectives.draftLv(3);
      case "align-prop" -> new io.github.nablagfn.core.objective.AlignProp(true);
      case "ddpo" -> Objectives.ddpo().innerEpochs(2).clipRange(0.2);
      default -> throw new IllegalArgumentException(name);
    };
  }

  private static NablaTrainer.Builder builder(String name) {
    boolean nabla = name.equals("residual");
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
  @ValueSource(strings = {"residual", "draft-lv", "align-prop", "ddpo"})
  void threeSharesGiveTheSingleShareStep(String name) {
    NablaTrainer whole = builder(name).build();
    NablaTrainer shared = builder(name).execution(THREE_SHARES).build();
    for (int i = 0; i < 2; i++) {
      IterationRecord a = whole.step();
      IterationRecord b = shared.step();
      double[] av = {a.loss(), a.rewardMean(), a.rewardStd(), a.gradNormPolicy(), a.gradNormFlow()};
      double[] bv = {b.loss(), b.rewardMean(), b.rewardStd(), b.gradNormPolicy(), b.gradNormFlow()};
      for (int k = 0; k < av.length; k++) {
        assertThat(bv[k]).as("iteration %d field %d", i, k)
            .isCloseTo(av[k], org.assertj.core.data.Offset.offset(REL * Math.max(1, Math.abs(av[k]))));
      }
    }
    whole.policy().parameters().asMap().forEach((n, p) -> {
      double diff = p.sub(shared.policy().parameters().get(n)).amaxNumber().doubleValue();
      assertThat(diff).as(n).isLessThan(REL * Math.max(1, p.amaxNumber().doubleValue()));
    });
  }

  @Test
  void sharesAreWeightedByTheirRowsAndMustCoverTheBatchOnce() {
    NablaTrainer t = builder("residual").build();
    RowTask task = RowTask.gradients(0);
    RowResult all = t.computeRows(task, 0, 7);
    RowResult parts = t.computeRows(task, 0, 4).plus(t.computeRows(task, 4, 7));
    assertThat(parts.terms()[0]).isCloseTo(all.terms()[0], org.assertj.core.data.Offset.offset(1e-5 * Math.abs(all
        .terms()[0])));
    assertThat(parts.rewards(7)).containsExactly(all.rewards(7), org.assertj.core.data.Offset.offset(1e-5f));
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
