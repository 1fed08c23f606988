package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

class NablaTrainerTest {
  private static final NoiseSchedule SCHEDULE = NoiseSchedule.ddpmDefault();
  private static final Sampler SAMPLER = Ddim.of(SCHEDULE, 10);
  @TempDir Path dir;

  private static MlpDenoiser policy() {
    return MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, PredictionType.EPSILON), Rng.of(1));
  }

  private static MlpDenoiser flowNet() {
    return MlpDenoiser.create(new MlpDenoiser.Config(2, 8, 2, 8, 0, PredictionType.EPSILON).withZeroOutput(), Rng.of(2));
  }

  private static NablaTrainer.Builder builder() {
    return NablaTrainer.builder().policy(policy()).flow(FlowModel.of(flowNet())).sampler(SAMPLER)
        .reward(new LinearReward(new double[] {1, 0}).scaled(2.0))
        .objective(Objectives.residualNablaDb().timestepFraction(0.2).regScale(0.1))
        .batchSize(4).seed(11);
  }

  private static void assertSameParameters(NablaTrainer a, NablaTrainer b) {
    for (String n : a.policy().parameters().names()) {
      assertThat(b.policy().parameters().get(n)).as("policy %s", n).isEqualTo(a.policy().parameters().get(n));
    }
    for (String n : a.flow().parameters().names()) {
      assertThat(b.flow().parameters().get(n)).as("flow %s", n).isEqualTo(a.flow().parameters().get(n));
    }
  }

  private static List<IterationRecord> timeless(TrainingHistory h) {
    return h.records().stream().map(IterationRecord::withoutTime).toList();
  }

  @Test
  void sameSeedGivesTheSameBits() {
    NablaTrainer a = builder().build();
    NablaTrainer b = builder().build();
    a.fit(3);
    b.fit(3);
    assertSameParameters(a, b);
    assertThat(timeless(b.history())).isEqualTo(timeless(a.history()));
    assertThat(a.history().last().rewardMean()).isFinite();
    NablaTrainer c = builder().seed(12).build();
    c.fit(1);
    assertThat(c.history().records().get(0).loss()).isNotEqualTo(a.history().records().get(0).loss());
  }

  @Test
  void resumingFromACheckpointIsBitIdenticalToAStraightRun() {
    NablaTrainer straight = builder().build();
    straight.fit(4);
    Path ckpt = dir.resolve("run");
    builder().checkpointDir(ckpt).build().fit(2);
    NablaTrainer resumed = builder().checkpointDir(ckpt).build(); // a new process: fresh weights, then resume
    resumed.fit(4);
    assertThat(resumed.iteration()).isEqualTo(4);
    assertSameParameters(straight, resumed);
    assertThat(timeless(resumed.history())).isEqualTo(timeless(straight.history()));
  }

  /**
   * With one update per batch the regulariser λ‖ε_θ − ε_old‖² compares the policy with itself: zero up to
   * float rounding. The bound: the two ε differ by the rounding of two float32 evaluations of the same
   * network on batches of different sizes, a few ulps of |ε| ≤ 8 (≤ 1e-5 per element), so the term is at
   * most λ·1e-10. From the second inner epoch on the policy has moved by one AdamW step (lr 1e-3 per
   * weight), and the term is many orders larger; the run differs from the single-update one.
   */
  @Test
  void innerEpochsMakeTheRegulariserActAndMoveThePolicyFurther() {
    NablaTrainer single = builder().build();
    single.fit(2);
    for (IterationRecord r : single.history().records()) {
      assertThat(Math.abs(r.term("regulariser"))).as("one update: the policy against itself").isLessThan(0.1 * 1e-10);
    }
    NablaTrainer inner = builder().objective(Objectives.residualNablaDb().timestepFraction(0.2).regScale(0.1)
        .innerEpochs(3)).build();
    inner.fit(2);
    for (IterationRecord r : inner.history().records()) {
      assertThat(r.term("regulariser")).as("third update: the policy has moved").isGreaterThan(1e-9);
      assertThat(r.applied()).isTrue();
    }
    // the batch (sampled before any update of the iteration) is the single-update run's: same rewards
    assertThat(inner.history().records().get(0).rewardMean())
        .isEqualTo(single.history().records().get(0).rewardMean());
    String name = single.policy().parameters().names().iterator().next();
    assertThat(inner.policy().parameters().get(name)).isNotEqualTo(single.policy().parameters().get(name));
  }

  @Test
  void innerEpochsResumeBitIdentically() {
    UnaryOperator<NablaTrainer.Builder> inner = b -> b.objective(Objectives.residualNablaDb().timestepFraction(0.2)
        .regScale(0.1).innerEpochs(2));
    NablaTrainer straight = inner.apply(builder()).build();
    straight.fit(4);
    Path ckpt = dir.resolve("inner");
    inner.apply(builder()).checkpointDir(ckpt).build().fit(2);
    NablaTrainer resumed = inner.apply(builder()).checkpointDir(ckpt).build();
    resumed.fit(4);
    assertSameParameters(straight, resumed);
    assertThat(timeless(resumed.history())).isEqualTo(timeless(straight.history()));
    // a checkpoint of another number of inner epochs is refused by name
    NablaTrainer other = builder().objective(Objectives.residualNablaDb().timestepFraction(0.2).regScale(0.1)
        .innerEpochs(3)).checkpointDir(ckpt).build();
    assertThatThrownBy(() -> other.fit(5)).hasMessageContaining("innerEpochs is '2' there but '3' here");
    assertThatThrownBy(() -> Objectives.residualNablaDb().innerEpochs(0))
        .hasMessageContaining("residualNablaDb.innerEpochs = 0; expected >= 1");
    assertThatThrownBy(() -> Objectives.nablaDb().innerEpochs(-1))
        .hasMessageContaining("nablaDb.innerEpochs = -1; expected >= 1");
  }

  /** A normalised reward's running statistics are saved with the checkpoint and restored on resume. */
  @Test
  void resumingWithANormalisedRewardRestoresItsStatistics() {
    java.util.function.Supplier<Reward> reward = () -> new LinearReward(new double[] {1, 0}).normalized(0.8).scaled(2.0);
    NablaTrainer straight = builder().reward(reward.get()).build();
    straight.fit(4);
    Path ckpt = dir.resolve("norm");
    builder().reward(reward.get()).checkpointDir(ckpt).build().fit(2);
    Reward fresh = reward.get();
    NablaTrainer resumed = builder().reward(fresh).checkpointDir(ckpt).build();
    resumed.fit(4);
    assertSameParameters(straight, resumed);
    assertThat(timeless(resumed.history())).isEqualTo(timeless(straight.history()));
    assertThat(fresh.state().get("count").getDouble(0)).isEqualTo(4.0);
  }

  @Test
  void aCorruptCheckpointIsRefusedWithItsName() throws IOException {
    Path ckpt = dir.resolve("corrupt");
    builder().checkpointDir(ckpt).build().fit(1);
    Path tensors = Checkpoints.tensorFile(ckpt, 1);
    byte[] bytes = Files.readAllBytes(tensors);
    bytes[bytes.length - 3] ^= 0x10;
    Files.write(tensors, bytes);
    NablaTrainer t = builder().checkpointDir(ckpt).build();
    assertThatThrownBy(() -> t.fit(2)).hasRootCauseInstanceOf(CheckpointException.class)
        .rootCause().hasMessageContaining("checkpoint-00000001.safetensors").hasMessageContaining("checksum mismatch");
  }

  /**
   * Three checkpoints kept, the newest damaged (a flipped byte in its tensors, or its manifest cut short):
   * the run resumes from the next older one and ends bit-identical to a run never interrupted.
   */
  @ParameterizedTest
  @CsvSource({"tensors", "manifest"})
  void aDamagedNewestCheckpointFallsBackToTheNextIntactOne(String damaged) throws IOException {
    NablaTrainer straight = builder().build();
    straight.fit(5);
    Path ckpt = dir.resolve("fallback-" + damaged);
    builder().checkpointDir(ckpt).checkpointEvery(1).checkpointsKept(3).build().fit(3);
    assertThat(Checkpoints.list(ckpt)).containsExactly(3L, 2L, 1L);
    if (damaged.equals("tensors")) {
      Path tensors = Checkpoints.tensorFile(ckpt, 3);
      byte[] bytes = Files.readAllBytes(tensors);
      bytes[bytes.length / 2] ^= 0x01;
      Files.write(tensors, bytes);
    } else {
      Path manifest = Checkpoints.manifestFile(ckpt, 3);
      byte[] bytes = Files.readAllBytes(manifest);
      Files.write(manifest, java.util.Arrays.copyOf(bytes, bytes.length / 2));
    }
    List<String> skipped = new java.util.ArrayList<>();
    assertThat(Checkpoints.newestIntact(ckpt, e -> skipped.add(e.getMessage())).orElseThrow().iteration())
        .isEqualTo(2);
    assertThat(skipped).singleElement().asString().contains("checkpoint-00000003")
        .containsAnyOf("checksum mismatch", "not valid JSON");
    NablaTrainer resumed = builder().checkpointDir(ckpt).checkpointEvery(1).checkpointsKept(3).build();
    resumed.fit(5);
    assertThat(resumed.iteration()).isEqualTo(5);
    assertSameParameters(straight, resumed);
    assertThat(timeless(resumed.history())).isEqualTo(timeless(straight.history()));
    assertThat(Checkpoints.latest(ckpt).orElseThrow().iteration()).isEqualTo(5); // the damaged one is rewritten
  }

  /**
   * Checkpoint names and manifests do not depend on the default locale: in ar-EG, {@code %08d} would write
   * Arabic-Indic digits, which the checkpoint pattern does not match, and a run would never resume.
   */
  @Test
  void checkpointsAreNamedAndFoundWhateverTheDefaultLocale() throws IOException {
    java.util.Locale before = java.util.Locale.getDefault();
    try {
      java.util.Locale.setDefault(java.util.Locale.forLanguageTag("ar-EG"));
      Path ckpt = dir.resolve("locale");
      builder().checkpointDir(ckpt).build().fit(2);
      assertThat(Files.exists(ckpt.resolve("checkpoint-00000002.json"))).isTrue();
      assertThat(Checkpoints.list(ckpt)).containsExactly(2L);
      NablaTrainer resumed = builder().checkpointDir(ckpt).build();
      resumed.fit(2);
      assertThat(resumed.iteration()).isEqualTo(2); // resumed, nothing retrained
      assertThat(resumed.history().records()).hasSize(2);
    } finally {
      java.util.Locale.setDefault(before);
    }
  }

  @Test
  void whenEveryCheckpointIsDamagedTheErrorNamesEach() throws IOException {
    Path ckpt = dir.resolve("all-damaged");
    builder().checkpointDir(ckpt).checkpointEvery(1).checkpointsKept(2).build().fit(2);
    for (long it : new long[] {1, 2}) {
      Files.writeString(Checkpoints.manifestFile(ckpt, it), "{");
    }
    NablaTrainer t = builder().checkpointDir(ckpt).build();
    assertThatThrownBy(() -> t.fit(3)).hasRootCauseInstanceOf(CheckpointException.class).rootCause()
        .hasMessageContaining("no intact checkpoint among 2").hasMessageContaining("checkpoint-00000001.json")
        .hasMessageContaining("checkpoint-00000002.json");
  }

  @Test
  void aCheckpointOfAnotherConfigurationIsRefusedNamingTheField() {
    Path ckpt = dir.resolve("other");
    builder().checkpointDir(ckpt).build().fit(1);
    NablaTrainer t = builder().batchSize(5).checkpointDir(ckpt).build();
    assertThatThrownBy(() -> t.fit(2)).hasMessageContaining("batchSize is '4' there but '5' here");
  }

  @Test
  void onlyTheNewestCheckpointsAreKept() throws IOException {
    Path ckpt = dir.resolve("keep");
    builder().checkpointDir(ckpt).checkpointEvery(1).checkpointsKept(2).build().fit(4);
    assertThat(Checkpoints.list(ckpt)).containsExactly(4L, 3L);
  }

  /** A differentiable test reward given by its graph: {@code forward(x, condition)}. */
  private static Reward graphReward(String name,
      java.util.function.BiFunction<SDVariable, SDVariable, SDVariable> forward) {
    return new Reward() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public boolean differentiable() {
        return true;
      }

      @Override
      public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
        return forward.apply(x, condition);
      }
    };
  }

  /** A reward whose value is NaN: R(x) = aᵀx · NaN. */
  private static Reward nanReward() {
    return graphReward("nan", (x, c) -> x.sum(1).mul(Double.NaN));
  }

  @Test
  void aNonFiniteLossStopsWithoutTouchingParameters() {
    NablaTrainer t = builder().reward(nanReward().scaled(1.0)).build();
    INDArray before = t.policy().parameters().get("mlp.0.weight").dup();
    assertThatThrownBy(t::step).isInstanceOf(NonFiniteException.class)
        .hasMessageContaining("iteration 0").hasMessageContaining("loss_forward_balance is NaN");
    assertThat(t.policy().parameters().get("mlp.0.weight")).isEqualTo(before);
  }

  /** R(x, c) = Σx / [c ≠ 2]: infinite (or NaN) for the samples of class 2 only. */
  private static Reward infiniteForClassTwo() {
    return graphReward("inf-for-class-2", (x, c) -> x.sum(1).div(
        c.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).neq(2.0).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)));
  }

  @Test
  void aNonFiniteLossNamesTheFirstSampleItComesFrom() {
    NablaTrainer t = builder()
        .policy(MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 3, PredictionType.EPSILON), Rng.of(1)))
        .flow(FlowModel.of(MlpDenoiser.create(
            new MlpDenoiser.Config(2, 8, 2, 8, 3, PredictionType.EPSILON).withZeroOutput(), Rng.of(2))))
        .conditions((rng, b) -> org.nd4j.linalg.factory.Nd4j.createFromArray(0L, 1L, 0L, 2L))
        .reward(infiniteForClassTwo().scaled(1.0)).build();
    INDArray before = t.policy().parameters().get("mlp.0.weight").dup();
    assertThatThrownBy(t::step).isInstanceOfSatisfying(NonFiniteException.class, e -> {
      assertThat(e.sample()).isEqualTo(3);
      assertThat(e.iteration()).isZero();
    }).hasMessageContaining("first non-finite at sample 3 of the batch");
    assertThat(t.policy().parameters().get("mlp.0.weight")).isEqualTo(before);
  }

  @Test
  void aNonFiniteLossCanBeSkippedAndCounted() {
    NablaTrainer t = builder().reward(nanReward().scaled(1.0)).onNonFinite(NablaTrainer.NonFinitePolicy.SKIP).build();
    INDArray before = t.policy().parameters().get("mlp.0.weight").dup();
    t.fit(2);
    assertThat(t.history().skipped()).isEqualTo(2);
    assertThat(t.history().last().applied()).isFalse();
    assertThat(t.policy().parameters().get("mlp.0.weight")).isEqualTo(before);
  }

  @Test
  void aStopRequestReturnsAfterTheCurrentIterationWithItsCheckpointAndResumingIsBitIdentical() throws IOException {
    Path ckpt = dir.resolve("stopped");
    NablaTrainer[] t = new NablaTrainer[1];
    t[0] = builder().checkpointDir(ckpt).checkpointEvery(100).listener(r -> {
      if (r.iteration() == 2) {
        t[0].requestStop(); // as a shutdown hook would, while iteration 2 finishes
      }
    }).build();
    t[0].fit(10);
    assertThat(t[0].iteration()).as("returned after the iteration in progress").isEqualTo(3);
    assertThat(Checkpoints.list(ckpt)).as("that iteration is checkpointed, not lost").containsExactly(3L);
    assertThat(t[0].fit(10).size()).as("a stopped trainer stays stopped").isEqualTo(3);
    NablaTrainer resumed = builder().checkpointDir(ckpt).build();
    resumed.fit(5);
    NablaTrainer straight = builder().build();
    straight.fit(5);
    assertSameParameters(straight, resumed);
  }

  @Test
  void aSecondTrainerOnTheSameCheckpointDirectoryIsRefusedWhileTheFirstFits() {
    Path ckpt = dir.resolve("shared");
    NablaTrainer other = builder().checkpointDir(ckpt).build();
    Throwable[] seen = new Throwable[1];
    builder().checkpointDir(ckpt).listener(r -> {
      if (r.iteration() == 0) {
        seen[0] = org.assertj.core.api.Assertions.catchThrowable(() -> other.fit(1));
      }
    }).build().fit(2);
    assertThat(seen[0]).isInstanceOf(java.io.UncheckedIOException.class)
        .hasMessageContaining(io.github.nablagfn.core.io.RunLock.FILE_NAME).hasMessageContaining("already held by this process");
    assertThat(other.iteration()).as("the refused trainer did nothing").isZero();
    other.fit(3); // free again once the first returned
    assertThat(other.iteration()).isEqualTo(3);
  }

  @Test
  void listenersReceiveEveryIterationAndJsonlLinesParse() throws IOException {
    Path jsonl = dir.resolve("metrics.jsonl");
    try (JsonlListener l = new JsonlListener(jsonl)) {
      builder().listener(l).build().fit(3);
    }
    List<String> lines = Files.readAllLines(jsonl);
    assertThat(lines).hasSize(3);
    ObjectMapper json = new ObjectMapper();
    for (int i = 0; i < 3; i++) {
      JsonNode n = json.readTree(lines.get(i));
      assertThat(n.get("iteration").asLong()).isEqualTo(i);
      assertThat(n.get("loss_forward_balance").isNumber()).isTrue();
      assertThat(n.get("reward_mean").isNumber()).isTrue();
    }
    // one schema: the keys are the record's components in snake_case, nothing else
    java.util.Set<String> keys = new java.util.TreeSet<>();
    json.readTree(lines.get(0)).fieldNames().forEachRemaining(keys::add);
    assertThat(keys).containsExactlyInAnyOrder("iteration", "loss_forward_balance", "loss_backward_balance",
        "loss_terminal", "loss_regulariser", "loss", "reward_mean", "reward_std", "grad_norm_policy", "grad_norm_flow", "applied",
        "wall_millis");
  }

  static Stream<Arguments> invalidSettings() {
    Sampler deterministic = Ddim.of(SCHEDULE, 10).eta(0.0);
    Reward notDifferentiable = new Reward() {
      @Override
      public String name() {
        return "jpeg-size";
      }

      @Override
      public boolean differentiable() {
        return false;
      }

      @Override
      public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
        throw new UnsupportedOperationException();
      }
    };
    MlpDenoiser wrongShape = MlpDenoiser.create(new MlpDenoiser.Config(3, 8, 2, 8, 0, PredictionType.EPSILON), Rng.of(3));
    return Stream.of(
        Arguments.of("policy", (UnaryOperator<NablaTrainer.Builder>) b -> b.policy(null), "NablaTrainer.policy = null"),
        Arguments.of("flow", (UnaryOperator<NablaTrainer.Builder>) b -> b.flow(null), "NablaTrainer.flow = null"),
        Arguments.of("sampler", (UnaryOperator<NablaTrainer.Builder>) b -> b.sampler(null), "NablaTrainer.sampler = null"),
        Arguments.of("reward", (UnaryOperator<NablaTrainer.Builder>) b -> b.reward(null), "NablaTrainer.reward = null"),
        Arguments.of("batchSize", (UnaryOperator<NablaTrainer.Builder>) b -> b.batchSize(0), "NablaTrainer.batchSize = 0; expected >= 1"),
        Arguments.of("checkpointEvery", (UnaryOperator<NablaTrainer.Builder>) b -> b.checkpointEvery(-1), "NablaTrainer.checkpointEvery = -1"),
        Arguments.of("checkpointsKept", (UnaryOperator<NablaTrainer.Builder>) b -> b.checkpointsKept(0), "NablaTrainer.checkpointsKept = 0"),
        Arguments.of("eta 0", (UnaryOperator<NablaTrainer.Builder>) b -> b.sampler(deterministic), "expected a stochastic sampler"),
        Arguments.of("reward not differentiable", (UnaryOperator<NablaTrainer.Builder>) b -> b.reward(notDifferentiable),
            "NablaTrainer.reward = jpeg-size (not differentiable)"),
        Arguments.of("flow shape", (UnaryOperator<NablaTrainer.Builder>) b -> b.flow(FlowModel.of(wrongShape)),
            "NablaTrainer.flow.sampleShape = [3]; expected the policy's [2]"),
        Arguments.of("prediction", (UnaryOperator<NablaTrainer.Builder>) b -> b.sampler(SAMPLER.withPrediction(PredictionType.V_PREDICTION)),
            "NablaTrainer.sampler.prediction = V_PREDICTION"),
        Arguments.of("optimizer", (UnaryOperator<NablaTrainer.Builder>) b -> b.policyOptimizer(null), "NablaTrainer.policyOptimizer = null"),
        Arguments.of("beta", (UnaryOperator<NablaTrainer.Builder>) b -> b.reward(new LinearReward(new double[] {1, 0}).scaled(-1)),
            "reward scale beta = -1.0"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidSettings")
  void invalidSettingsAreRejectedNamingTheField(String what, UnaryOperator<NablaTrainer.Builder> change, String message) {
    assertThatThrownBy(() -> change.apply(builder()).build()).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }

  @Test
  void stratifiedStepsTakeOnePerStratumAndAlwaysTheFinalStep() {
    for (long seed = 0; seed < 50; seed++) {
      int[] s = StepSelector.stratified(50, 5, Rng.of(seed));
      assertThat(s).hasSize(5);
      // 4 strata over steps 0..48: [0, 12), [12, 24), [24, 36), [36, 49)
      int[] lo = {0, 12, 24, 36, 49};
      for (int j = 0; j < 4; j++) {
        assertThat(s[j]).isBetween(lo[j], lo[j + 1] - 1);
      }
      assertThat(s[4]).isEqualTo(49);
    }
    assertThat(StepSelector.stratified(10, 10, Rng.of(1))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(StepSelector.stratified(10, 1, Rng.of(1))).containsExactly(9);
  }

  /**
   * Every step is trained: over many draws each of the N steps appears, and a non-final step's frequency
   * is 1/(its stratum's width) (within 5 binomial standard errors). The final step is always drawn.
   */
  @ParameterizedTest(name = "N = {0}, K = {1}")
  @CsvSource({"50, 5", "50, 10", "20, 3", "7, 7", "1000, 100"})
  void everyStepHasItsStratumsChance(int n, int k) {
    int draws = 4000;
    int[] count = new int[n];
    Rng rng = Rng.of(17);
    for (int d = 0; d < draws; d++) {
      for (int s : StepSelector.stratified(n, k, rng.fork("draw", d))) {
        count[s]++;
      }
    }
    assertThat(count[n - 1]).isEqualTo(draws);
    for (int j = 0; j < k - 1; j++) {
      int lo = (int) ((long) j * (n - 1) / (k - 1));
      int hi = (int) ((long) (j + 1) * (n - 1) / (k - 1));
      double p = 1.0 / (hi - lo);
      double se = Math.sqrt(draws * p * (1 - p));
      for (int s = lo; s < hi; s++) {
        assertThat((double) count[s]).as("draws of step %d of %d (K = %d)", s, n, k)
            .isCloseTo(draws * p, within(5 * se + 1e-9));
      }
    }
  }

  @Test
  void allStepsUsesEveryTransition() {
    assertThat(Objectives.residualNablaDb().allSteps().transitionsPerTrajectory(50)).isEqualTo(50);
    assertThat(Objectives.residualNablaDb().transitionsPerTrajectory(50)).isEqualTo(5);
    assertThatThrownBy(() -> Objectives.residualNablaDb().timestepFraction(0))
        .hasMessageContaining("residualNablaDb.timestepFraction = 0.0");
    assertThatThrownBy(() -> Objectives.residualNablaDb().regScale(-1)).hasMessageContaining("residualNablaDb.regScale = -1.0");
    assertThatThrownBy(() -> Objectives.nablaDb().forwardWeighting(null))
        .hasMessageContaining("nablaDb.forwardWeighting");
  }

  @Test
  void learningRateSchedulesAreAppliedPerIteration() {
    // the default is the optimizers' constant rate: an explicit constant schedule gives the same bits
    NablaTrainer plain = builder().build();
    NablaTrainer explicit = builder()
        .policyLearningRate(io.github.nablagfn.core.optim.LearningRate.constant(1e-3))
        .flowLearningRate(io.github.nablagfn.core.optim.LearningRate.constant(1e-3)).build();
    plain.fit(2);
    explicit.fit(2);
    assertSameParameters(plain, explicit);
    // a schedule that differs from iteration 1 on changes the second update only
    NablaTrainer scheduled = builder()
        .policyLearningRate(k -> k == 0 ? 1e-3 : 5e-2).build();
    scheduled.fit(1);
    NablaTrainer one = builder().build();
    one.fit(1);
    assertSameParameters(one, scheduled);
    scheduled.fit(2);
    assertThat(scheduled.policy().parameters().get("mlp.0.weight"))
        .isNotEqualTo(plain.policy().parameters().get("mlp.0.weight"));
  }

  @Test
  void trainingWithoutAFlowTrainsOnlyTheForwardTerm() {
    NablaTrainer t = builder().flow(FlowModel.none()).build();
    t.fit(2);
    assertThat(t.history().last().term("backward_balance")).isZero();
    assertThat(t.history().last().term("terminal")).isZero();
    assertThat(t.history().last().gradNormFlow()).isZero();
    assertThat(t.history().last().term("forward_balance")).isPositive();
  }

  /**
   * Plain ∇-DB runs in the same trainer; its resume check refuses a Residual ∇-DB checkpoint (the objective
   * is part of the configuration).
   */
  @Test
  void plainNablaDbTrainsAndIsRecordedInCheckpoints() {
    NablaTrainer t = builder().objective(Objectives.nablaDb().timestepFraction(0.2)).checkpointDir(dir)
        .checkpointEvery(2).build();
    t.fit(2);
    assertThat(t.history().last().term("forward_balance")).isPositive().isFinite();
    assertThat(t.history().last().term("backward_balance")).isPositive().isFinite();
    assertThatThrownBy(() -> builder().checkpointDir(dir).build().fit(1))
        .hasMessageContaining("objective");
  }

  /**
   * Each reward-backpropagation baseline runs in the same trainer (no flow) and, with a linear reward and
   * a fixed seed, raises the batch reward: the mean of the last 5 of 25 iterations exceeds the first 5's.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("baselines")
  void baselinesRaiseTheRewardInTheSameTrainer(io.github.nablagfn.core.objective.Objective objective) {
    NablaTrainer t = NablaTrainer.builder().policy(policy()).sampler(SAMPLER)
        .reward(new LinearReward(new double[] {1, 0}).scaled(1.0)).objective(objective)
        .policyOptimizer(AdamW.lr(1e-2).weightDecay(0)).batchSize(16).seed(3).build();
    t.fit(25);
    List<IterationRecord> r = t.history().records();
    double first = r.subList(0, 5).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    double last = r.subList(20, 25).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    assertThat(last).as("%s: reward %s -> %s", objective.name(), first, last).isGreaterThan(first + 0.1);
    // one named term, the whole loss: "reward" (−mean R) for the backpropagation baselines, "surrogate" for DDPO
    IterationRecord lastRecord = t.history().last();
    assertThat(lastRecord.terms().names()).containsExactly(
        objective instanceof io.github.nablagfn.core.objective.Ddpo ? "surrogate" : "reward");
    assertThat(lastRecord.terms().total()).isEqualTo(lastRecord.loss());
    assertThatThrownBy(() -> t.logFlowScore(Rng.of(1).gaussian(2, 2), 0, null)).hasMessageContaining("no log-flow");
    assertThatThrownBy(() -> NablaTrainer.builder().policy(policy()).sampler(SAMPLER)
        .reward(new LinearReward(new double[] {1, 0})).objective(objective).flow(FlowModel.of(flowNet())).build())
        .hasMessageContaining("NablaTrainer.flow").hasMessageContaining("FlowModel.none()");
  }

  static Stream<io.github.nablagfn.core.objective.Objective> baselines() {
    return Stream.of(Objectives.refl(3), Objectives.draftK(1), Objectives.draftK(3), Objectives.draftLv(2),
        Objectives.alignProp(), new io.github.nablagfn.core.objective.AlignProp(true));
  }

  /**
   * The DB family (DAG-DB, Residual DB) runs in the same trainer with a flow network and raises a linear
   * reward, known by its values only (the family never differentiates the reward): the mean of the last 5 of
   * 25 iterations exceeds the first 5's; its one term is "balance".
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("dbObjectives")
  void dbObjectivesRaiseARewardKnownOnlyByItsValues(io.github.nablagfn.core.objective.DbObjective objective) {
    NablaTrainer t = NablaTrainer.builder().policy(policy()).flow(FlowModel.of(flowNet())).sampler(SAMPLER)
        .reward(VALUES_ONLY).objective(objective).policyOptimizer(AdamW.lr(1e-2).weightDecay(0))
        .flowOptimizer(AdamW.lr(1e-2).weightDecay(0)).batchSize(16).seed(3).build();
    t.fit(25);
    List<IterationRecord> r = t.history().records();
    double first = r.subList(0, 5).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    double last = r.subList(20, 25).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    assertThat(last).as("%s: reward %s -> %s", objective.name(), first, last).isGreaterThan(first + 0.1);
    assertThat(t.history().last().terms().names()).containsExactly("balance");
    assertThat(t.history().last().gradNormFlow()).isPositive();
  }

  static Stream<io.github.nablagfn.core.objective.DbObjective> dbObjectives() {
    return Stream.of(Objectives.dagDb().timestepFraction(0.3), Objectives.residualDb().timestepFraction(0.3));
  }

  /** A reward known only by its values (no graph). */
  private static final Reward VALUES_ONLY = new Reward() {
    @Override
    public String name() {
      return "first-coordinate-values";
    }

    @Override
    public boolean differentiable() {
      return false;
    }

    @Override
    public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
      throw new UnsupportedOperationException("values only");
    }

    @Override
    public INDArray evaluate(INDArray x, INDArray condition) {
      return x.getColumn(0).dup();
    }
  };

  @Test
  void ddpoTrainsOnANonDifferentiableReward() {
    NablaTrainer t = NablaTrainer.builder().policy(policy()).sampler(SAMPLER).reward(VALUES_ONLY)
        .objective(Objectives.ddpo().clipRange(0.2).innerEpochs(2))
        .policyOptimizer(AdamW.lr(1e-2).weightDecay(0)).batchSize(16).seed(3).build();
    t.fit(25);
    List<IterationRecord> r = t.history().records();
    double first = r.subList(0, 5).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    double last = r.subList(20, 25).stream().mapToDouble(IterationRecord::rewardMean).average().orElseThrow();
    assertThat(last).as("reward %s -> %s", first, last).isGreaterThan(first + 0.1);
    assertThatThrownBy(() -> builder().reward(VALUES_ONLY).build()).hasMessageContaining("not differentiable")
        .hasMessageContaining("DDPO, DAG-DB and Residual DB take any reward");
  }
}
