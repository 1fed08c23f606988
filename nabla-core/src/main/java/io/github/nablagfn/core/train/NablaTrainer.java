package io.github.nablagfn.core.train;

import io.github.nablagfn.core.io.RunLock;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Sampler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tunes a diffusion policy to a reward with Residual ∇-DB (Nabla-GFlowNet) or one of the baselines.
 * Each iteration samples B trajectories with the current policy (no gradients), computes the objective's
 * named loss terms and the gradients of θ (policy) and φ (flow, ∇-DB family) on them, and clips and steps
 * each with its own AdamW. The objective's family decides the row tasks of an iteration (one task that
 * samples and differentiates, or sampling then one update per inner epoch: {@link RowTask}); the rows of a
 * task run where the {@link Execution} puts them. All randomness of iteration k comes from
 * {@code Rng.of(seed).fork("iteration", k)}, so a run resumed from a checkpoint continues bit-identically.
 *
 * <pre>{@code
 * NablaTrainer trainer = NablaTrainer.builder()
 *     .policy(model).reference(Reference.frozenCopy()).flow(FlowModel.of(flowNet))
 *     .sampler(Ddim.of(schedule, 50).eta(1.0)).reward(reward.scaled(1e3))
 *     .objective(Objectives.residualNablaDb()).batchSize(8).seed(42).build();
 * TrainingHistory h = trainer.fit(200);
 * }</pre>
 */
public final class NablaTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(NablaTrainer.class);

  /** What happens on a NaN or infinite loss or gradient: stop with an exception, or skip the update and go on. */
  public enum NonFinitePolicy {
    STOP,
    SKIP
  }

  private final Denoiser policy;
  private final Denoiser reference;
  private final Denoiser flow;
  private final Sampler sampler;
  private final Reward reward;
  private final int batchSize;
  private final Rng rng;
  private final List<TrainingListener> listeners;
  private final Path checkpointDir;
  private final int checkpointEvery;
  private final int checkpointsKept;
  private final NonFinitePolicy nonFinite;
  private final Execution execution;
  private final ObjectiveEngine engine;
  private final RowWorker worker;
  private final ParameterUpdates updates;
  private final TrainerCheckpoints state;
  private final TrainingHistory history = new TrainingHistory();
  private volatile boolean stopRequested;
  private long iteration;

  private NablaTrainer(Builder b) {
    NablaRuntime.init();
    this.policy = b.policy;
    this.reference = b.reference.resolve(b.policy);
    this.flow = b.flow.network();
    this.sampler = b.sampler;
    this.reward = b.reward;
    this.batchSize = b.batchSize;
    this.rng = Rng.of(b.seed);
    ConditionSampler conditions = b.conditions != null ? b.conditions
        : policy.numClasses() > 0 ? ConditionSampler.uniform(policy.numClasses()) : ConditionSampler.none();
    this.listeners = List.copyOf(b.listeners);
    this.checkpointDir = b.checkpointDir;
    this.checkpointEvery = b.checkpointEvery;
    this.checkpointsKept = b.checkpointsKept;
    this.nonFinite = b.nonFinite;
    this.execution = b.execution;
    int rows = b.rowsPerExecution >= 0 ? b.rowsPerExecution : autoRows(policy.sampleShape());
    this.engine = ObjectiveEngine.of(b.objective,
        new ObjectiveEngine.Parts(policy, reference, flow, sampler, reward, rows));
    this.worker = new RowWorker(policy, sampler, reward, conditions, rng, batchSize, engine);
    this.updates = new ParameterUpdates(policy, flow, b.policyOptimizer, b.flowOptimizer,
        b.policyLearningRate != null ? b.policyLearningRate : LearningRate.constant(b.policyOptimizer.lr()),
        b.flowLearningRate != null ? b.flowLearningRate : LearningRate.constant(b.flowOptimizer.lr()));
    this.state = new TrainerCheckpoints(policy, reference, flow, sampler, reward, b.objective, batchSize, b.seed,
        updates);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Completed iterations. */
  public long iteration() {
    return iteration;
  }

  public TrainingHistory history() {
    return history;
  }

  public Denoiser policy() {
    return policy;
  }

  public Denoiser reference() {
    return reference;
  }

  /** g_φ, or null for the forward-only variant. */
  public Denoiser flow() {
    return flow;
  }

  public Sampler sampler() {
    return sampler;
  }

  /** Trajectories per iteration (B). */
  public int batchSize() {
    return batchSize;
  }

  /**
   * Trains until {@code iterations} iterations have been completed in total, first resuming from the
   * newest checkpoint in the checkpoint directory if it is further along. Writes a checkpoint every
   * {@code checkpointEvery} iterations and at the end (when a directory is set). While it runs, the
   * checkpoint directory is locked ({@link RunLock}): a second process (or a second trainer of this one)
   * fitting into the same directory fails with {@link RunLock.HeldException} naming the holder.
   *
   * <p>After {@link #requestStop()} it returns once the current iteration is complete, with a checkpoint of
   * that iteration written (when a directory is set): no finished iteration is lost.
   *
   * @throws UncheckedIOException if the checkpoint directory is locked by another writer or cannot be written
   */
  public TrainingHistory fit(long iterations) {
    if (iterations < 0) {
      throw new IllegalArgumentException("iterations = " + iterations + "; expected >= 0");
    }
    if (checkpointDir == null) {
      return fitUnlocked(iterations);
    }
    RunLock lock;
    try {
      lock = RunLock.acquire(checkpointDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e.getMessage(), e);
    }
    try (lock) {
      return fitUnlocked(iterations);
    } catch (IOException e) {
      throw new UncheckedIOException("could not release " + lock.file(), e);
    }
  }

  private TrainingHistory fitUnlocked(long iterations) {
    if (checkpointDir != null) {
      state.resumeIfBehind(checkpointDir, iteration, history).ifPresent(resumed -> iteration = resumed);
    }
    long checkpointed = checkpointDir != null ? iteration : -1;
    while (iteration < iterations && !stopRequested) {
      IterationRecord r = step();
      for (TrainingListener l : listeners) {
        l.onIteration(r);
      }
      if (checkpointDir != null && checkpointEvery > 0 && iteration % checkpointEvery == 0 && iteration < iterations) {
        saveCheckpoint();
        checkpointed = iteration;
      }
    }
    if (checkpointDir != null && (checkpointed != iteration || !stopRequested)) {
      saveCheckpoint();
    }
    return history;
  }

  /**
   * Asks a running (or the next) {@link #fit} to return after the iteration in progress, with a checkpoint
   * of it written. Safe from any thread, such as a shutdown hook; later {@code fit} calls return at once
   * until {@link #clearStopRequest()}.
   */
  public void requestStop() {
    stopRequested = true;
  }

  /** Whether {@link #requestStop()} was called (and not cleared). */
  public boolean stopRequested() {
    return stopRequested;
  }

  /** Lets {@link #fit} train again after {@link #requestStop()}. */
  public void clearStopRequest() {
    stopRequested = false;
  }

  /**
   * Runs one iteration and returns its record: the objective's row tasks, then the guard (a non-finite loss
   * term or gradient norm stops the run or skips the update, {@link NonFinitePolicy}) and one update of θ and
   * φ. With several updates per batch, all but the last are applied before the guard and undone with it.
   */
  public IterationRecord step() {
    long start = System.nanoTime();
    RowTask task; // the task whose result is applied (re-run row by row to locate a non-finite sample)
    RowResult result;
    float[] rewards;
    Runnable undo = null; // set once an inner update changed θ, φ or their optimizer states
    if (engine.samplesAndLossInOneTask()) {
      task = new RowTask.SampleAndLoss(iteration);
      result = execution.run(this, task);
      rewards = result.rewards(batchSize);
    } else {
      // sample the whole batch, then one loss per inner epoch on the same trajectories; every update but the
      // last here, the last through the guard below
      RowResult sampled = execution.run(this, new RowTask.Sample(iteration));
      rewards = sampled.rewards(batchSize);
      RowTask.SampledBatch batch = sampled.sampledBatch(batchSize);
      Rng stream = rng.fork("iteration", iteration);
      try {
        task = engine.update(iteration, stream, batch, rewards, 0);
        result = execution.run(this, task);
        for (int e = 1; e < engine.innerEpochs(); e++) {
          Map<String, INDArray> pg = updates.policyGradients(result);
          Map<String, INDArray> fg = updates.flowGradients(result);
          if (NonFiniteGuard.firstNonFinite(result.terms(), AdamW.globalNorm(pg), updates.flowNorm(fg)) != null) {
            break; // the guard below reports it
          }
          if (undo == null) {
            undo = updates.undoPoint();
          }
          updates.apply(pg, fg, iteration);
          task = engine.update(iteration, stream, batch, rewards, e);
          result = execution.run(this, task);
        }
      } catch (RuntimeException ex) {
        if (undo != null) {
          undo.run(); // one complete update per iteration or none
        }
        throw ex;
      }
    }
    INDArray r = Nd4j.createFromArray(rewards);
    double rewardMean = r.meanNumber().doubleValue();
    double rewardStd = batchSize > 1 ? r.stdNumber().doubleValue() : 0.0;
    Map<String, INDArray> policyGradients = updates.policyGradients(result);
    Map<String, INDArray> flowGradients = updates.flowGradients(result);
    double normPolicy = AdamW.globalNorm(policyGradients);
    double normFlow = updates.flowNorm(flowGradients);
    LossTerms terms = result.terms();
    String bad = NonFiniteGuard.firstNonFinite(terms, normPolicy, normFlow);
    boolean applied = bad == null;
    if (!applied) {
      if (undo != null) {
        undo.run(); // nothing of this iteration stays in the parameters
      }
      RowTask failed = task;
      int sample = NonFiniteGuard.firstNonFiniteSample(batchSize, (from, to) -> computeRows(failed, from, to));
      if (nonFinite == NonFinitePolicy.STOP) {
        throw new NonFiniteException(iteration, bad, NonFiniteGuard.valueOf(bad, terms, normPolicy, normFlow), sample);
      }
      LOG.warn("iteration {}: {} is not finite (first at sample {}); update skipped ({} skipped so far)", iteration,
          bad, sample, history.skipped() + 1);
    } else {
      updates.apply(policyGradients, flowGradients, iteration);
      reward.observe(r); // statistics of normalised rewards: only from iterations that were applied
    }
    IterationRecord rec = new IterationRecord(iteration, terms, result.diagnostics(), terms.total(), rewardMean,
        rewardStd, normPolicy, normFlow, applied, (System.nanoTime() - start) / 1e6);
    history.add(rec);
    iteration++;
    NablaRuntime.relieveMemory();
    return rec;
  }

  /**
   * Computes {@code task} on rows [from, to) of the iteration's batch of B: draws exactly the numbers the
   * whole batch's computation gives those rows ({@link Rng#rows}), so shares computed anywhere sum to the
   * single-process result up to float rounding. Terms and gradients come weighted by (to − from)/B. Used
   * by an {@link Execution}; the trainer's parameters are read, never changed.
   */
  public RowResult computeRows(RowTask task, int from, int to) {
    return worker.compute(task, from, to);
  }

  /**
   * What a worker needs besides its configuration to compute rows exactly as this trainer would: the
   * policy's and the flow's parameters ({@code policy.*}, {@code flow.*}) and the reward's state
   * ({@code reward_state.*}), as plain arrays.
   */
  public HostTensors workerState() {
    return HostTensors.of(state.modelTensors());
  }

  /** Loads {@link #workerState()} of a trainer of the same configuration; validated before anything changes. */
  public void loadWorkerState(HostTensors workerState) {
    state.loadWorkerState(workerState);
  }

  /**
   * The settings a worker's trainer must share with this one for its rows to be this trainer's rows:
   * the checkpoint configuration (objective, sampler, reward and β, batch size, seed, parameter shapes)
   * and a fingerprint of the frozen reference's values, which are not shipped.
   */
  public Map<String, String> workerConfiguration() {
    return state.workerConfiguration();
  }

  static int autoRows(long[] sampleShape) {
    long elements = 1;
    for (long d : sampleShape) {
      elements *= d;
    }
    return (int) Math.max(1, 16384 / elements);
  }

  /**
   * The learned residual log-flow gradient γ_t β ∇R(x̂0_θ(x, t)) + g_φ(x, t) at timestep t of the
   * sampler's step {@code step}, for each row of x.
   *
   * @throws IllegalStateException for an objective that learns no log-flow (the baselines)
   */
  public INDArray logFlowScore(INDArray x, int step, INDArray condition) {
    return engine.logFlowScore(x, step, condition);
  }

  /** Writes a checkpoint of the current state now. */
  public void saveCheckpoint() {
    if (checkpointDir == null) {
      throw new IllegalStateException("no checkpoint directory configured");
    }
    state.save(checkpointDir, iteration, history, checkpointsKept);
  }

  /** Builder; {@link #build()} validates every setting and names the field, value and allowed range. */
  public static final class Builder {
    private Denoiser policy;
    private Reference reference = Reference.frozenCopy();
    private FlowModel flow;
    private Sampler sampler;
    private Reward reward;
    private Objective objective = Objectives.residualNablaDb();
    private AdamW policyOptimizer = AdamW.lr(1e-3).betas(0.9, 0.95).weightDecay(1e-4).clipNorm(1.0);
    private AdamW flowOptimizer = AdamW.lr(1e-3).weightDecay(1e-2).clipNorm(1.0);
    private LearningRate policyLearningRate;
    private LearningRate flowLearningRate;
    private int batchSize = 8;
    private int rowsPerExecution = -1;
    private long seed;
    private ConditionSampler conditions;
    private final List<TrainingListener> listeners = new ArrayList<>();
    private Path checkpointDir;
    private int checkpointEvery;
    private int checkpointsKept = 2;
    private NonFinitePolicy nonFinite = NonFinitePolicy.STOP;
    private Execution execution = Execution.local();

    /** The denoiser to fine-tune (θ). Required. */
    public Builder policy(Denoiser policy) {
      this.policy = policy;
      return this;
    }

    /** The frozen reference p_ref; default {@link Reference#frozenCopy()}. */
    public Builder reference(Reference reference) {
      this.reference = reference;
      return this;
    }

    /** g_φ; required: {@code FlowModel.of(net)} or {@code FlowModel.none()}. */
    public Builder flow(FlowModel flow) {
      this.flow = flow;
      return this;
    }

    /** The sampler whose chain is trained (stochastic: η > 0). Required. */
    public Builder sampler(Sampler sampler) {
      this.sampler = sampler;
      return this;
    }

    /** The reward with its scale β ({@code reward.scaled(beta)}). Required. */
    public Builder reward(Reward reward) {
      this.reward = reward;
      return this;
    }

    public Builder objective(Objective objective) {
      this.objective = objective;
      return this;
    }

    public Builder policyOptimizer(AdamW optimizer) {
      this.policyOptimizer = optimizer;
      return this;
    }

    public Builder flowOptimizer(AdamW optimizer) {
      this.flowOptimizer = optimizer;
      return this;
    }

    /** A learning-rate schedule for θ over iterations (default: the policy optimizer's constant lr). */
    public Builder policyLearningRate(LearningRate schedule) {
      this.policyLearningRate = schedule;
      return this;
    }

    /** A learning-rate schedule for φ over iterations (default: the flow optimizer's constant lr). */
    public Builder flowLearningRate(LearningRate schedule) {
      this.flowLearningRate = schedule;
      return this;
    }

    public Builder batchSize(int batchSize) {
      this.batchSize = batchSize;
      return this;
    }

    /**
     * Transitions per graph execution of the loss (0 = all K·B rows at once). By default
     * max(1, 16384 / elements per sample): all rows for small vectors, 16 for 32×32 images, since SameDiff
     * holds a backward pass's arrays until the execution ends (memory grows with the rows). Results differ
     * only by float rounding.
     */
    public Builder rowsPerExecution(int rows) {
      this.rowsPerExecution = rows;
      return this;
    }

    public Builder seed(long seed) {
      this.seed = seed;
      return this;
    }

    /** Conditions of the sampled batches; default uniform labels for conditional policies. */
    public Builder conditions(ConditionSampler conditions) {
      this.conditions = conditions;
      return this;
    }

    public Builder listener(TrainingListener listener) {
      this.listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Where checkpoints are written and resumed from (none by default). */
    public Builder checkpointDir(Path dir) {
      this.checkpointDir = dir;
      return this;
    }

    /** Also write a checkpoint every n iterations (0: only at the end of {@code fit}). */
    public Builder checkpointEvery(int n) {
      this.checkpointEvery = n;
      return this;
    }

    /** How many checkpoints to keep (default 2). */
    public Builder checkpointsKept(int n) {
      this.checkpointsKept = n;
      return this;
    }

    public Builder onNonFinite(NonFinitePolicy policy) {
      this.nonFinite = policy;
      return this;
    }

    /**
     * Where each iteration's row-parallel work (sampling, loss and gradients) runs; default
     * {@link Execution#local()}. The {@code nabla-spark} module's {@code SparkExecution} spreads it over
     * Spark tasks; updates and checkpoints stay with this trainer.
     */
    public Builder execution(Execution execution) {
      this.execution = execution;
      return this;
    }

    public NablaTrainer build() {
      require(policy != null, "policy", "null", "a Denoiser");
      require(objective != null, "objective", "null",
          "Objectives.residualNablaDb(), nablaDb(), dagDb(), residualDb(), refl(), draftK(k), draftLv(n), alignProp() "
              + "or ddpo()");
      if (!objective.learnsFlow() && flow == null) {
        flow = FlowModel.none(); // the baselines learn no flow
      }
      require(flow != null, "flow", "null", "FlowModel.of(network) or FlowModel.none()");
      require(sampler != null, "sampler", "null", "a Sampler, e.g. Ddim.of(schedule, 50)");
      require(reward != null, "reward", "null", "a Reward, e.g. reward.scaled(beta)");
      require(reference != null, "reference", "null", "Reference.frozenCopy() or Reference.of(network)");
      require(policyOptimizer != null, "policyOptimizer", "null", "an AdamW");
      require(flowOptimizer != null, "flowOptimizer", "null", "an AdamW");
      require(nonFinite != null, "onNonFinite", "null", "STOP or SKIP");
      require(execution != null, "execution", "null", "Execution.local() or a distributed execution");
      require(batchSize >= 1, "batchSize", Integer.toString(batchSize), ">= 1");
      require(rowsPerExecution >= -1, "rowsPerExecution", Integer.toString(rowsPerExecution),
          ">= 0 (0 = all rows in one execution)");
      require(checkpointEvery >= 0, "checkpointEvery", Integer.toString(checkpointEvery), ">= 0");
      require(checkpointsKept >= 1, "checkpointsKept", Integer.toString(checkpointsKept), ">= 1");
      require(reward.differentiable() || !objective.needsRewardGradient(), "reward",
          reward.name() + " (not differentiable)",
          "a differentiable reward for " + objective.name() + " (DDPO, DAG-DB and Residual DB take any reward)");
      require(objective.learnsFlow() || flow.network() == null, "flow", "a network",
          "FlowModel.none() with " + objective.name() + " (it learns no flow)");
      require(sampler.prediction() == policy.predictionType(), "sampler.prediction", sampler.prediction().name(),
          "the policy's prediction type " + policy.predictionType());
      for (int i = 0; objective.needsTransitionDensities() && i < sampler.numSteps(); i++) {
        require(sampler.step(i).variance() > 0, "sampler", sampler + " (step " + i + " has sigma = 0)",
            "a stochastic sampler: eta > 0 and final alpha-bar < 1");
      }
      if (flow.network() != null) {
        Denoiser f = flow.network();
        require(Arrays.equals(f.sampleShape(), policy.sampleShape()), "flow.sampleShape",
            Arrays.toString(f.sampleShape()), "the policy's " + Arrays.toString(policy.sampleShape()));
        require(f.numClasses() == policy.numClasses(), "flow.numClasses", Integer.toString(f.numClasses()),
            "the policy's " + policy.numClasses());
      }
      return new NablaTrainer(this);
    }

    private static void require(boolean ok, String field, String value, String expected) {
      if (!ok) {
        throw new IllegalArgumentException("NablaTrainer." + field + " = " + value + "; expected " + expected);
      }
    }
  }

}
