package io.github.nablagfn.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.testing.TabulatedShift;
import io.github.nablagfn.core.train.Execution;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.HostTensors;
import io.github.nablagfn.core.train.IterationRecord;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Reference;
import io.github.nablagfn.diffusion.lora.LoraConfig;
import io.github.nablagfn.diffusion.lora.LoraDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.analytic.InkReward;
import io.github.nablagfn.core.train.RowResult;
import io.github.nablagfn.core.train.RowTask;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.api.Tag;

/**
 * The Spark execution against the single-process trainer on Spark {@code local[2,4]} (two task slots,
 * a task retried up to 4 times). Shares of the batch draw the numbers the whole batch gives their rows,
 * so the only difference is float rounding: the network runs on fewer rows, and the shares' weighted
 * means are summed in another order. Tolerances below are relative to the largest magnitude involved:
 * float32 rounding (6e-8) accumulated over the few hundred operations of a toy step stays far below 1e-5.
 */
@Tag("slow")
class SparkExecutionTest {
  private static final double REL = 1e-5;
  private static JavaSparkContext spark;
  @TempDir Path dir;

  @BeforeAll
  static void start() {
    spark = new JavaSparkContext(new SparkConf().setMaster("local[2,4]").setAppName("nabla-spark-test")
        .set("spark.ui.enabled", "false").set("spark.driver.host", "127.0.0.1")
        .set("spark.driver.bindAddress", "127.0.0.1"));
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  static Objective objective(String name) {
    return switch (name) {
      case "residual-nabla-db" -> Objectives.residualNablaDb().timestepFraction(0.3).regScale(0.1);
      case "nabla-db" -> Objectives.nablaDb().timestepFraction(0.3);
      case "refl" -> Objectives.refl(4);
      case "draft-k" -> Objectives.draftK(2);
      case "draft-lv" -> Objectives.draftLv(2);
      case "align-prop" -> Objectives.alignProp();
      case "ddpo" -> Objectives.ddpo().innerEpochs(2).clipRange(0.2);
      default -> throw new IllegalArgumentException(name);
    };
  }

  /** A conditional MLP toy in 2-D: serializable (captures only the objective's name and β). */
  static TrainerFactory toy(String objectiveName, double beta) {
    return () -> {
      boolean nabla = objectiveName.contains("nabla-db");
      MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 3, PredictionType.EPSILON),
          Rng.of(1));
      FlowModel flow = nabla ? FlowModel.of(MlpDenoiser.create(
          new MlpDenoiser.Config(2, 8, 2, 8, 3, PredictionType.EPSILON).withZeroOutput(), Rng.of(2)))
          : FlowModel.none();
      return NablaTrainer.builder().policy(policy).flow(flow).sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 8))
          .reward(new LinearReward(new double[] {1, -0.5}).scaled(beta)).objective(objective(objectiveName))
          .batchSize(6).seed(11);
    };
  }

  private static double maxAbs(HostTensors... ts) {
    double m = 0;
    for (HostTensors t : ts) {
      for (INDArray a : t.toArrays().values()) {
        m = Math.max(m, a.amaxNumber().doubleValue());
      }
    }
    return m;
  }

  private static void assertClose(String what, HostTensors expected, HostTensors actual) {
    assertThat(actual.names()).as(what).isEqualTo(expected.names());
    double tol = REL * Math.max(maxAbs(expected), 1e-3);
    for (String n : expected.names()) {
      double diff = expected.get(n).sub(actual.get(n)).amaxNumber().doubleValue();
      assertThat(diff).as("%s %s (tolerance %.3g)", what, n, tol).isLessThanOrEqualTo(tol);
    }
  }

  private static void assertSameParameters(NablaTrainer expected, NablaTrainer actual) {
    assertClose("policy parameters", HostTensors.of(expected.policy().parameters().asMap()),
        HostTensors.of(actual.policy().parameters().asMap()));
    if (expected.flow() != null) {
      assertClose("flow parameters", HostTensors.of(expected.flow().parameters().asMap()),
          HostTensors.of(actual.flow().parameters().asMap()));
    }
  }

  /** Every number of a record by its metrics key ({@code applied} and the wall time aside). */
  private static java.util.Map<String, Double> numbers(IterationRecord r) {
    java.util.Map<String, Double> m = new java.util.LinkedHashMap<>();
    r.toJson().forEach((k, v) -> {
      if (v instanceof Double d && !k.equals("wall_millis")) {
        m.put(k, d);
      }
    });
    return m;
  }

  private static void assertSameRecord(IterationRecord e, IterationRecord a) {
    assertThat(a.terms().names()).isEqualTo(e.terms().names());
    assertThat(a.diagnostics().names()).isEqualTo(e.diagnostics().names());
    java.util.Map<String, Double> ev = numbers(e);
    java.util.Map<String, Double> av = numbers(a);
    for (String k : ev.keySet()) {
      assertThat(av.get(k)).as("iteration %d, %s", e.iteration(), k)
          .isCloseTo(ev.get(k), org.assertj.core.data.Offset.offset(REL * Math.max(1.0, Math.abs(ev.get(k)))));
    }
    assertThat(a.applied()).isEqualTo(e.applied());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"residual-nabla-db", "nabla-db", "refl", "draft-k", "draft-lv", "align-prop", "ddpo"})
  void oneDistributedIterationEqualsTheSingleProcessOne(String objectiveName) {
    TrainerFactory factory = toy(objectiveName, 2.0);
    NablaTrainer single = factory.builder().build();
    NablaTrainer distributed = SparkNablaTrainer.create(spark, factory, 4); // B = 6: shares of 1, 2, 1, 2 rows
    if (!objectiveName.equals("ddpo")) {
      // the gradients themselves, before any update
      RowTask task = new RowTask.SampleAndLoss(0);
      RowResult local = Execution.local().run(single, task);
      RowResult shared = SparkExecution.of(spark, factory, 4).run(distributed, task);
      assertThat(shared.rows().keySet()).containsExactly(0, 1, 3, 4);
      assertClose("policy gradient", local.policyGradients(), shared.policyGradients());
      assertClose("flow gradient", local.flowGradients(), shared.flowGradients());
      assertThat(maxAbs(local.policyGradients())).as("a gradient that is not zero").isGreaterThan(1e-4);
    }
    IterationRecord a = single.step();
    IterationRecord b = distributed.step();
    assertSameRecord(a, b);
    assertSameParameters(single, distributed);
  }

  @Test
  void oneDistributedIterationOfASmallImageModelEqualsTheSingleProcessOne() {
    // a LoRA-adapted conditional U-Net on 8×8 images, the reference its adapters-disabled base, a U-Net flow
    TrainerFactory factory = () -> {
      UNetConfig unet = new UNetConfig(1, 8, new int[] {8, 8}, true, 4, 8, 16, 3, false, PredictionType.EPSILON);
      UNetConfig flowConfig = new UNetConfig(1, 8, new int[] {4, 4}, false, 4, 8, 16, 3, true,
          PredictionType.EPSILON);
      LoraDenoiser policy = LoraDenoiser.wrap(UNet.create(unet, Rng.of(3)), LoraConfig.attention(2), Rng.of(4));
      return NablaTrainer.builder().policy(policy).reference(Reference.adaptersDisabled())
          .flow(FlowModel.of(UNet.create(flowConfig, Rng.of(5)))).sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 4))
          .reward(new InkReward().scaled(10)).objective(Objectives.residualNablaDb().allSteps())
          .batchSize(4).seed(7);
    };
    NablaTrainer single = factory.builder().build();
    NablaTrainer distributed = SparkNablaTrainer.create(spark, factory, 2);
    RowResult local = Execution.local().run(single, new RowTask.SampleAndLoss(0));
    RowResult shared = SparkExecution.of(spark, factory, 2).run(distributed, new RowTask.SampleAndLoss(0));
    assertClose("policy gradient", local.policyGradients(), shared.policyGradients());
    assertClose("flow gradient", local.flowGradients(), shared.flowGradients());
    assertThat(maxAbs(local.flowGradients())).as("a gradient that is not zero").isGreaterThan(1e-6);
    assertSameRecord(single.step(), distributed.step());
    assertSameParameters(single, distributed);
  }

  @Test
  void aFewIterationsOfTheTiltedGaussianGiveTheSameHistory() {
    double[] m = {0.3, -0.2};
    TrainerFactory factory = () -> {
      NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
      return NablaTrainer.builder().policy(TabulatedShift.policy(m, 0.5, schedule))
          .flow(FlowModel.of(TabulatedShift.flow(2, schedule))).sampler(Ddim.of(schedule, 10))
          .reward(new LinearReward(new double[] {0.6, 0.8}).scaled(2.83))
          .objective(Objectives.residualNablaDb().allSteps())
          .policyOptimizer(AdamW.lr(0.05).weightDecay(0)).flowOptimizer(AdamW.lr(0.05).weightDecay(0))
          .batchSize(16).seed(5);
    };
    NablaTrainer single = factory.builder().build();
    NablaTrainer distributed = SparkNablaTrainer.create(spark, factory, 2);
    List<IterationRecord> a = single.fit(5).records();
    List<IterationRecord> b = distributed.fit(5).records();
    for (int i = 0; i < 5; i++) {
      assertSameRecord(a.get(i), b.get(i));
    }
    assertSameParameters(single, distributed);
  }

  @Test
  void aTaskThatFailsOnceIsRetriedAndTheResultIsUnchanged() {
    TrainerFactory factory = toy("residual-nabla-db", 2.0);
    NablaTrainer driver = factory.builder().build();
    SparkExecution execution = SparkExecution.of(spark, factory, 2);
    RowResult clean = execution.run(driver, new RowTask.SampleAndLoss(3));
    Workers.FAILURES_TO_INJECT.set(1);
    RowResult retried = execution.run(driver, new RowTask.SampleAndLoss(3));
    assertThat(Workers.FAILURES_TO_INJECT.get()).as("the injected failure happened").isZero();
    assertClose("policy gradient", clean.policyGradients(), retried.policyGradients());
    assertThat(retried.terms()).isEqualTo(clean.terms());
  }

  @Test
  void aJobThatFailsForGoodAppliesNoUpdate() {
    TrainerFactory factory = toy("ddpo", 2.0); // two phases and an inner update: all or nothing
    NablaTrainer driver = SparkNablaTrainer.create(spark, factory, 2);
    HostTensors before = HostTensors.of(driver.policy().parameters().asMap());
    Workers.FAILURES_TO_INJECT.set(1000);
    try {
      assertThatThrownBy(driver::step).hasMessageContaining("injected task failure");
    } finally {
      Workers.FAILURES_TO_INJECT.set(0);
    }
    assertThat(driver.iteration()).isZero();
    HostTensors after = HostTensors.of(driver.policy().parameters().asMap());
    for (String n : before.names()) {
      assertThat(after.get(n)).as(n).isEqualTo(before.get(n));
    }
  }

  @Test
  void anExecutorWhoseConfigurationDiffersIsRefusedNamingTheDifference() {
    // β is 3 where the factory runs inside a Spark task, 2 on the driver
    TrainerFactory factory = () -> toy("residual-nabla-db", TaskContext.get() != null ? 3.0 : 2.0).builder();
    NablaTrainer driver = SparkNablaTrainer.create(spark, factory, 2);
    assertThatThrownBy(driver::step).hasMessageContaining("differs from the driver's")
        .hasMessageContaining("beta is '3.0' on the executor but '2.0' on the driver");
    assertThat(driver.iteration()).isZero();
  }

  @Test
  void theDriverWritesCheckpointsAndARestartedJobResumesFromThem() {
    TrainerFactory factory = toy("residual-nabla-db", 2.0);
    Path ckpt = dir.resolve("ckpt");
    NablaTrainer straight = SparkNablaTrainer.create(spark, factory, 2);
    straight.fit(4);
    SparkNablaTrainer.create(spark, factory, 2, b -> b.checkpointDir(ckpt)).fit(2);
    NablaTrainer resumed = SparkNablaTrainer.create(spark, factory, 2, b -> b.checkpointDir(ckpt));
    resumed.fit(4);
    assertThat(resumed.iteration()).isEqualTo(4);
    for (int i = 0; i < 4; i++) {
      assertSameRecord(straight.history().records().get(i), resumed.history().records().get(i));
    }
    assertSameParameters(straight, resumed);
    // the same format as a single-process run: a single-process trainer resumes from it
    NablaTrainer single = factory.builder().checkpointDir(ckpt).build();
    single.fit(4);
    assertThat(single.iteration()).isEqualTo(4);
    assertSameParameters(straight, single);
  }

  @Test
  void splitCoversTheBatchInContiguousNearEqualShares() {
    assertThat(SparkExecution.split(6, 4)).containsExactly(new int[] {0, 1}, new int[] {1, 3}, new int[] {3, 4},
        new int[] {4, 6});
    assertThat(SparkExecution.split(3, 3)).containsExactly(new int[] {0, 1}, new int[] {1, 2}, new int[] {2, 3});
    assertThat(Workers.difference(java.util.Map.of("a", "1"), java.util.Map.of("a", "1"))).isNull();
    assertThat(Workers.difference(java.util.Map.of("a", "1"), java.util.Map.of("a", "2")))
        .isEqualTo("a is '2' on the executor but '1' on the driver");
  }
}
