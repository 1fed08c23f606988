package io.github.nablagfn.core.train;

import io.github.nablagfn.core.io.RunLock;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.objective.ChainBackprop;
import io.github.nablagfn.core.objective.Columns;
import io.github.nablagfn.core.objective.Ddpo;
import io.github.nablagfn.core.objective.DdpoLoss;
import io.github.nablagfn.core.objective.RewardWeighting;
import io.github.nablagfn.core.objective.NablaDbObjective;
import io.github.nablagfn.core.objective.RewardBackprop;
import io.github.nablagfn.core.objective.ResidualNablaDbLoss;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.objective.TransitionBatch;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fine-tunes a diffusion policy to a reward with Residual ∇-DB (Nabla-GFlowNet). Each iteration:
 * sample B trajectories with the current policy (no gradients) recording x_t and ε; choose K
 * transitions (stratified, final step always included); compute the stop-gradient scores; evaluate
 * the loss and the gradients of θ (policy) and φ (flow) in one pass; clip and step each with its own
 * AdamW. All randomness of iteration k comes from {@code Rng.of(seed).fork("iteration", k)}, so a
 * run resumed from a checkpoint continues bit-identically.
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
  private final Objective objective;
  /** The ∇-DB settings, or null for a reward-backpropagation baseline. */
  private final NablaDbObjective nablaDb;
  /** The baselines' engine, or null for ∇-DB. */
  private final ChainBackprop backprop;
  /** DDPO's surrogate, or null. */
  private final DdpoLoss ddpo;
  private final AdamW policyOptimizer;
  private final AdamW flowOptimizer;
  private final LearningRate policyLearningRate;
  private final LearningRate flowLearningRate;
  private final int batchSize;
  private final long seed;
  private final Rng rng;
  private final ConditionSampler conditions;
  private final List<TrainingListener> listeners;
  private final Path checkpointDir;
  private volatile boolean stopRequested;
  private final int checkpointEvery;
  private final int checkpointsKept;
  private final NonFinitePolicy nonFinite;
  private final Execution execution;
  private final ResidualNablaDbLoss loss;
  private final DenoiserGraph sampling;
  private final TrainingHistory history = new TrainingHistory();
  private DenoiserGraph flowGraph; // built on first use by logFlowScore
  private AdamW.State policyState;
  private AdamW.State flowState;
  private long iteration;

  private NablaTrainer(Builder b) {
    NablaRuntime.init();
    this.policy = b.policy;
    this.reference = b.reference.resolve(b.policy);
    this.flow = b.flow.network();
    this.sampler = b.sampler;
    this.reward = b.reward;
    this.objective = b.objective;
    this.nablaDb = b.objective instanceof NablaDbObjective o ? o : null;
    this.policyOptimizer = b.policyOptimizer;
    this.flowOptimizer = b.flowOptimizer;
    this.policyLearningRate = b.policyLearningRate != null ? b.policyLearningRate
        : LearningRate.constant(b.policyOptimizer.lr());
    this.flowLearningRate = b.flowLearningRate != null ? b.flowLearningRate
        : LearningRate.constant(b.flowOptimizer.lr());
    this.batchSize = b.batchSize;
    this.seed = b.seed;
    this.rng = Rng.of(b.seed);
    this.conditions = b.conditions != null ? b.conditions
        : policy.numClasses() > 0 ? ConditionSampler.uniform(policy.numClasses()) : ConditionSampler.none();
    this.listeners = List.copyOf(b.listeners);
    this.checkpointDir = b.checkpointDir;
    this.checkpointEvery = b.checkpointEvery;
    this.checkpointsKept = b.checkpointsKept;
    this.nonFinite = b.nonFinite;
    this.execution = b.execution;
    int rows = b.rowsPerExecution >= 0 ? b.rowsPerExecution : autoRows(policy.sampleShape());
    this.loss = nablaDb == null ? null
        : new ResidualNablaDbLoss(nablaDb, policy, reference, flow, reward).rowsPerExecution(rows);
    this.backprop = b.objective instanceof RewardBackprop ? new ChainBackprop(policy, reward).rowsPerExecution(rows)
        : null;
    this.ddpo = b.objective instanceof Ddpo d ? new DdpoLoss(d, policy).rowsPerExecution(rows) : null;
    this.sampling = new DenoiserGraph(policy);
    this.policyState = policyOptimizer.newState(policy.parameters());
    this.flowState = flow == null ? null : flowOptimizer.newState(flow.parameters());
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
      resumeIfBehind();
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

  /** Runs one iteration and returns its record. */
  public IterationRecord step() {
    long start = System.nanoTime();
    ResidualNablaDbLoss.Terms t;
    Map<String, INDArray> policyGradients;
    Map<String, INDArray> flowGradients;
    INDArray r; // reward of the sampled x_0
    RowTask lastTask; // the task whose result is applied (re-run row by row to locate a non-finite sample)
    Runnable undoInnerUpdates = () -> { }; // with inner epochs: restores θ, φ and their optimizer states
    if (ddpo != null) {
      // DDPO: sample (any reward), advantages per condition over the whole batch, then the clipped
      // surrogate; all inner epochs but the last update here, the last one goes through the common guard
      Ddpo d = (Ddpo) objective;
      RowResult sampled = execution.run(this, RowTask.samples(iteration));
      float[] rewards = sampled.rewards(batchSize);
      r = Nd4j.createFromArray(rewards);
      long[] conds = conditionsOf(sampled);
      double[] adv = DdpoLoss.advantages(r.castTo(DataType.DOUBLE).toDoubleVector(), conds);
      int[] steps = stratifiedSteps(sampler.numSteps(), d.transitionsPerTrajectory(sampler.numSteps()),
          rng.fork("iteration", iteration).fork("strata", 0));
      RowTask task = RowTask.ddpo(iteration, steps, adv, trajectoryOf(sampled), conds);
      lastTask = task;
      undoInnerUpdates = undoPoint();
      RowResult result;
      try {
        result = execution.run(this, task);
        for (int e = 1; e < d.innerEpochs(); e++) {
          Map<String, INDArray> g = result.policyGradients().toArrays();
          double norm = AdamW.globalNorm(g);
          if (!Double.isFinite(result.terms()[0]) || !Double.isFinite(norm)) {
            break; // the common guard below reports it
          }
          policyOptimizer.withLr(policyLearningRate.at(iteration)).step(policy.parameters(), g, policyState);
          result = execution.run(this, task);
        }
      } catch (RuntimeException e) {
        undoInnerUpdates.run(); // one complete update per iteration or none
        throw e;
      }
      t = new ResidualNablaDbLoss.Terms(result.terms()[0], 0, 0, 0);
      policyGradients = result.policyGradients().toArrays();
      flowGradients = Map.of();
    } else if (nablaDb != null && nablaDb.innerEpochs() > 1) {
      // the ∇-DB family with several updates per batch: sample once, then one loss per inner epoch on the
      // same trajectories (epoch e draws its transitions from stream "strata" e; epoch 0's are the ones a
      // single update would use); all updates but the last here, the last through the common guard
      RowResult sampled = execution.run(this, RowTask.samples(iteration));
      r = Nd4j.createFromArray(sampled.rewards(batchSize));
      HostTensors traj = trajectoryOf(sampled);
      long[] conds = conditionsOf(sampled);
      Rng whole = rng.fork("iteration", iteration);
      undoInnerUpdates = undoPoint();
      RowResult result;
      try {
        lastTask = RowTask.nablaDb(iteration, nablaDbSteps(whole, 0), traj, conds);
        result = execution.run(this, lastTask);
        for (int e = 1; e < nablaDb.innerEpochs(); e++) {
          Map<String, INDArray> pg = policyGradientsOf(result);
          Map<String, INDArray> fg = flowGradientsOf(result);
          if (firstNonFinite(termsOf(result), AdamW.globalNorm(pg), flow == null ? 0.0 : AdamW.globalNorm(fg)) != null) {
            break; // the common guard below reports it
          }
          applyUpdates(pg, fg);
          lastTask = RowTask.nablaDb(iteration, nablaDbSteps(whole, e), traj, conds);
          result = execution.run(this, lastTask);
        }
      } catch (RuntimeException ex) {
        undoInnerUpdates.run(); // one complete update per iteration or none
        throw ex;
      }
      t = termsOf(result);
      policyGradients = policyGradientsOf(result);
      flowGradients = flowGradientsOf(result);
    } else {
      lastTask = RowTask.gradients(iteration);
      RowResult result = execution.run(this, lastTask);
      t = termsOf(result);
      policyGradients = policyGradientsOf(result);
      flowGradients = flowGradientsOf(result);
      r = Nd4j.createFromArray(result.rewards(batchSize));
    }
    double rewardMean = r.meanNumber().doubleValue();
    double rewardStd = batchSize > 1 ? r.stdNumber().doubleValue() : 0.0;
    double normPolicy = AdamW.globalNorm(policyGradients);
    double normFlow = flow == null ? 0.0 : AdamW.globalNorm(flowGradients);
    // guard, then update θ and φ with their own clipping and AdamW
    String bad = firstNonFinite(t, normPolicy, normFlow);
    boolean applied = bad == null;
    if (!applied) {
      undoInnerUpdates.run(); // nothing of this iteration stays in the parameters
      int sample = firstNonFiniteSample(lastTask);
      if (nonFinite == NonFinitePolicy.STOP) {
        throw new NonFiniteException(iteration, bad, valueOf(bad, t, normPolicy, normFlow), sample);
      }
      LOG.warn("iteration {}: {} is not finite (first at sample {}); update skipped ({} skipped so far)", iteration,
          bad, sample, history.skipped() + 1);
    } else {
      applyUpdates(policyGradients, flowGradients);
      reward.observe(r); // statistics of normalised rewards: only from iterations that were applied
    }
    IterationRecord rec = new IterationRecord(iteration, t.forward(), t.backward(), t.terminal(), t.regulariser(),
        t.total(), rewardMean, rewardStd, normPolicy, normFlow, applied, (System.nanoTime() - start) / 1e6);
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
    if (from < 0 || to > batchSize || from >= to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batchSize);
    }
    int rows = to - from;
    double weight = (double) rows / batchSize;
    long started = System.nanoTime();
    Rng whole = rng.fork("iteration", task.iteration());
    Rng it = whole.rows(from, to, batchSize);
    if (task.kind() == RowTask.Kind.DDPO) {
      if (ddpo == null) {
        throw new IllegalStateException("a DDPO task for a trainer of " + objective.name());
      }
      Trajectory traj = trajectoryRows(task.trajectory(), task.conditions(), from, to);
      TransitionBatch batch = TransitionBatch.of(sampler, traj, task.steps(), RewardWeighting.ALPHA_BAR, 0.0);
      DdpoLoss.Result res = ddpo.compute(batch, Arrays.copyOfRange(task.advantages(), from, to));
      return share(started, new double[] {res.loss() * weight, 0, 0, 0},
          new double[] {res.meanRatioDeviation() * weight, res.clippedFraction() * weight},
          res.policyGradients(), Map.of(), weight, new RowResult.Rows(from, to, new float[rows], null, null));
    }
    if (task.kind() == RowTask.Kind.NABLA_DB) {
      if (nablaDb == null) {
        throw new IllegalStateException("a ∇-DB task for a trainer of " + objective.name());
      }
      return nablaDbShare(trajectoryRows(task.trajectory(), task.conditions(), from, to), task.steps(), from, to,
          weight, started);
    }
    // sample the rows' trajectories with the current policy, recording x_t and the model output
    INDArray allConditions = conditions.sample(whole.fork("condition", 0), batchSize);
    INDArray condition = allConditions == null ? null : Columns.rows(allConditions, from, to);
    long[] shape = DenoiserGraph.withBatch(rows, policy.sampleShape());
    int n = sampler.numSteps();
    INDArray[] states = new INDArray[n + 1];
    INDArray[] outputs = new INDArray[n];
    states[0] = it.fork("init", 0).gaussian(shape);
    sampler.sample(sampling, states[0], condition, it.fork("sampling", 0), (i, x, out, next) -> {
      outputs[i] = out;
      states[i + 1] = next;
    });
    Trajectory trajectory = new Trajectory(states, outputs, condition);
    if (task.kind() == RowTask.Kind.SAMPLES) {
      INDArray rw = reward.evaluate(states[n], condition).castTo(DataType.FLOAT);
      Map<String, INDArray> tensors = new LinkedHashMap<>();
      for (int i = 0; i <= n; i++) {
        tensors.put("s." + i, states[i]);
      }
      for (int i = 0; i < n; i++) {
        tensors.put("o." + i, outputs[i]);
      }
      long[] c = condition == null ? null : condition.castTo(DataType.INT64).toLongVector();
      return share(started, new double[4], new double[2], Map.of(), Map.of(), weight,
          new RowResult.Rows(from, to, rw.toFloatVector(), HostTensors.of(tensors), c));
    }
    if (backprop != null) {
      // a reward-backpropagation baseline: its loss goes into the total (and the forward slot)
      ChainBackprop.Result res = backprop.compute((RewardBackprop) objective, sampler, trajectory,
          it.fork("objective", 0));
      return share(started, new double[] {res.loss() * weight, 0, 0, 0}, new double[2], res.policyGradients(), Map.of(),
          weight, new RowResult.Rows(from, to, res.rewards().castTo(DataType.FLOAT).toFloatVector(), null, null));
    }
    // ∇-DB: choose the transitions (batch-level), then the loss and gradients of these rows
    int[] steps = nablaDbSteps(whole, 0);
    return nablaDbShare(trajectory, steps, from, to, weight, started);
  }

  /** The ∇-DB family's transitions for inner epoch {@code epoch} of the iteration whose stream is {@code whole}. */
  private int[] nablaDbSteps(Rng whole, int epoch) {
    int n = sampler.numSteps();
    return stratifiedSteps(n, nablaDb.transitionsPerTrajectory(n), whole.fork("strata", epoch));
  }

  /** Restores θ, φ and their optimizer states to what they are now. */
  private Runnable undoPoint() {
    Map<String, INDArray> policyBefore = snapshot(policy.parameters().asMap());
    AdamW.State policyStateBefore = AdamW.State.fromTensors(policyState.toTensors(), policy.parameters());
    Map<String, INDArray> flowBefore = flow == null ? null : snapshot(flow.parameters().asMap());
    AdamW.State flowStateBefore = flow == null ? null : AdamW.State.fromTensors(flowState.toTensors(), flow.parameters());
    return () -> {
      policy.parameters().load(policyBefore, false);
      policyState = policyStateBefore;
      if (flow != null) {
        flow.parameters().load(flowBefore, false);
        flowState = flowStateBefore;
      }
    };
  }

  /** One AdamW step of θ and (if present) φ at this iteration's learning rates. */
  private void applyUpdates(Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients) {
    policyOptimizer.withLr(policyLearningRate.at(iteration)).step(policy.parameters(), policyGradients, policyState);
    if (flow != null) {
      flowOptimizer.withLr(flowLearningRate.at(iteration)).step(flow.parameters(), flowGradients, flowState);
    }
  }

  private static ResidualNablaDbLoss.Terms termsOf(RowResult r) {
    double[] t = r.terms();
    return new ResidualNablaDbLoss.Terms(t[0], t[1], t[2], t[3]);
  }

  private Map<String, INDArray> policyGradientsOf(RowResult r) {
    return withAllNames(policy, r.policyGradients().toArrays());
  }

  private Map<String, INDArray> flowGradientsOf(RowResult r) {
    return flow == null ? Map.of() : withAllNames(flow, r.flowGradients().toArrays());
  }

  /** The ∇-DB family's loss and gradients on rows [from, to) of a batch, at the given steps. */
  private RowResult nablaDbShare(Trajectory trajectory, int[] steps, int from, int to, double weight, long started) {
    int rows = to - from;
    TransitionBatch batch = TransitionBatch.of(sampler, trajectory, steps, nablaDb.rewardWeighting(), reward.scale());
    ResidualNablaDbLoss.Result res = loss.compute(batch);
    ResidualNablaDbLoss.Terms tr = res.terms();
    // reward of x_0: the final transition's x_s rows (the last rows of the batch)
    INDArray rw = res.scores().rewardNext().get(NDArrayIndex.interval(batch.rows() - rows, batch.rows()));
    return share(started, new double[] {tr.forward() * weight, tr.backward() * weight, tr.terminal() * weight,
        tr.regulariser() * weight}, new double[2], res.policyGradients(), res.flowGradients(), weight,
        new RowResult.Rows(from, to, rw.castTo(DataType.FLOAT).toFloatVector(), null, null));
  }

  private static RowResult share(long started, double[] terms, double[] diagnostics,
      Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients, double weight, RowResult.Rows rows) {
    java.util.TreeMap<Integer, RowResult.Rows> m = new java.util.TreeMap<>();
    m.put(rows.from(), rows);
    return new RowResult(terms, diagnostics, HostTensors.of(policyGradients).times(weight),
        HostTensors.of(flowGradients).times(weight), m, (System.nanoTime() - started) / 1e6);
  }

  /** Gradients for every parameter of {@code d} (zeros where a share had none, e.g. an empty map). */
  private static Map<String, INDArray> withAllNames(Denoiser d, Map<String, INDArray> grads) {
    Map<String, INDArray> all = new LinkedHashMap<>();
    d.parameters().asMap().forEach((k, v) -> {
      INDArray g = grads.get(k);
      all.put(k, g != null ? g : Nd4j.zeros(v.dataType(), v.shape()));
    });
    return all;
  }

  private static Map<String, INDArray> snapshot(Map<String, INDArray> params) {
    Map<String, INDArray> copy = new LinkedHashMap<>();
    params.forEach((k, v) -> copy.put(k, v.dup()));
    return copy;
  }

  /** The whole batch's trajectory ({@code s.i}, {@code o.i}, rows concatenated in order) of a SAMPLES result. */
  private HostTensors trajectoryOf(RowResult sampled) {
    sampled.checkCovers(batchSize);
    List<RowResult.Rows> shares = new ArrayList<>(sampled.rows().values());
    if (shares.size() == 1) {
      return shares.get(0).trajectory();
    }
    Map<String, INDArray> all = new LinkedHashMap<>();
    for (String name : shares.get(0).trajectory().names()) {
      INDArray[] parts = shares.stream().map(s -> s.trajectory().get(name)).toArray(INDArray[]::new);
      all.put(name, Nd4j.concat(0, parts));
    }
    return HostTensors.of(all);
  }

  private long[] conditionsOf(RowResult sampled) {
    if (sampled.rows().values().iterator().next().conditions() == null) {
      return null;
    }
    long[] all = new long[batchSize];
    for (RowResult.Rows s : sampled.rows().values()) {
      System.arraycopy(s.conditions(), 0, all, s.from(), s.to() - s.from());
    }
    return all;
  }

  private Trajectory trajectoryRows(HostTensors traj, long[] conds, int from, int to) {
    int n = sampler.numSteps();
    INDArray[] states = new INDArray[n + 1];
    INDArray[] outputs = new INDArray[n];
    for (int i = 0; i <= n; i++) {
      states[i] = Columns.rowsOrWhole(traj.get("s." + i), from, to);
    }
    for (int i = 0; i < n; i++) {
      outputs[i] = Columns.rowsOrWhole(traj.get("o." + i), from, to);
    }
    INDArray c = conds == null ? null : Nd4j.createFromArray(Arrays.copyOfRange(conds, from, to));
    return new Trajectory(states, outputs, c);
  }

  /**
   * What a worker needs besides its configuration to compute rows exactly as this trainer would: the
   * policy's and the flow's parameters ({@code policy.*}, {@code flow.*}) and the reward's state
   * ({@code reward_state.*}), as plain arrays.
   */
  public HostTensors workerState() {
    return HostTensors.of(modelTensors());
  }

  /** The policy's and the flow's parameters and the reward's state, under their checkpoint names. */
  private Map<String, INDArray> modelTensors() {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    policy.parameters().asMap().forEach((k, v) -> tensors.put("policy." + k, v));
    if (flow != null) {
      flow.parameters().asMap().forEach((k, v) -> tensors.put("flow." + k, v));
    }
    reward.state().forEach((k, v) -> tensors.put("reward_state." + k, v));
    return tensors;
  }

  /** Loads {@link #workerState()} of a trainer of the same configuration; validated before anything changes. */
  public void loadWorkerState(HostTensors state) {
    Map<String, INDArray> pol = state.withPrefix("policy.");
    Map<String, INDArray> flo = state.withPrefix("flow.");
    Map<String, INDArray> rs = state.withPrefix("reward_state.");
    policy.parameters().validate(pol, false);
    if (flow != null) {
      flow.parameters().validate(flo, false);
    }
    checkRewardState(rs);
    policy.parameters().load(pol, false);
    if (flow != null) {
      flow.parameters().load(flo, false);
    }
    reward.state().forEach((k, v) -> v.assign(rs.get(k)));
  }

  /** Refuses saved reward statistics that lack one of the reward's state tensors or have another shape. */
  private void checkRewardState(Map<String, INDArray> saved) {
    for (Map.Entry<String, INDArray> e : reward.state().entrySet()) {
      INDArray a = saved.get(e.getKey());
      if (a == null || !Arrays.equals(a.shape(), e.getValue().shape())) {
        throw new IllegalArgumentException("reward state '" + e.getKey() + "' is missing or has another shape");
      }
    }
  }

  /**
   * The settings a worker's trainer must share with this one for its rows to be this trainer's rows:
   * the checkpoint configuration (objective, sampler, reward and β, batch size, seed, parameter shapes)
   * and a fingerprint of the frozen reference's values, which are not shipped.
   */
  public Map<String, String> workerConfiguration() {
    Map<String, String> c = new LinkedHashMap<>(config());
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    reference.parameters().asMap().forEach((k, v) -> {
      crc.update(k.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      for (float f : v.castTo(DataType.FLOAT).dup('c').data().asFloat()) {
        int bits = Float.floatToRawIntBits(f);
        crc.update(bits);
        crc.update(bits >>> 8);
        crc.update(bits >>> 16);
        crc.update(bits >>> 24);
      }
    });
    c.put("referenceValues", Long.toHexString(crc.getValue()) + " (CRC32 of the reference's parameters)");
    return c;
  }

  /** Trajectories per iteration (B). */
  public int batchSize() {
    return batchSize;
  }

  /**
   * The first row of the batch whose own share of {@code task} has a non-finite reward, loss term or
   * gradient, or −1. Bisection (only on the failure path): a range is non-finite when one of its rows is,
   * so the left half is searched first; about one iteration's work in all.
   */
  private int firstNonFiniteSample(RowTask task) {
    int from = 0;
    int to = batchSize;
    while (to - from > 1) {
      int mid = (from + to) >>> 1;
      if (!isFinite(computeRows(task, from, mid))) {
        to = mid;
      } else {
        from = mid; // the left half is finite: the first non-finite row, if any, is on the right
      }
    }
    // no single row may be non-finite on its own (the sum overflowed): check the one found
    return isFinite(computeRows(task, from, from + 1)) ? -1 : from;
  }

  private static boolean isFinite(RowResult r) {
    boolean finite = Double.isFinite(AdamW.globalNorm(r.policyGradients().toArrays()))
        && Double.isFinite(AdamW.globalNorm(r.flowGradients().toArrays()));
    for (double v : r.terms()) {
      finite &= Double.isFinite(v);
    }
    for (RowResult.Rows rows : r.rows().values()) {
      for (float v : rows.rewards()) {
        finite &= Float.isFinite(v);
      }
    }
    return finite;
  }

  static int autoRows(long[] sampleShape) {
    long elements = 1;
    for (long d : sampleShape) {
      elements *= d;
    }
    return (int) Math.max(1, 16384 / elements);
  }

  private static String firstNonFinite(ResidualNablaDbLoss.Terms t, double normPolicy, double normFlow) {
    String[] names = {"loss_fwd", "loss_bwd", "loss_term", "loss_reg", "policy gradient norm", "flow gradient norm"};
    double[] values = {t.forward(), t.backward(), t.terminal(), t.regulariser(), normPolicy, normFlow};
    for (int i = 0; i < names.length; i++) {
      if (!Double.isFinite(values[i])) {
        return names[i];
      }
    }
    return null;
  }

  private static double valueOf(String name, ResidualNablaDbLoss.Terms t, double normPolicy, double normFlow) {
    switch (name) {
      case "loss_fwd":
        return t.forward();
      case "loss_bwd":
        return t.backward();
      case "loss_term":
        return t.terminal();
      case "loss_reg":
        return t.regulariser();
      case "policy gradient norm":
        return normPolicy;
      default:
        return normFlow;
    }
  }

  /**
   * K of N steps: the final step N−1 (always trained) and one step from each of K−1 strata of the other
   * N−1 steps, boundaries b_j = ⌊j·(N−1)/(K−1)⌋, pick b_j + U{0..b_{j+1}−b_j−1}. Every step has a
   * positive chance; with K = N every step is taken once. (Strata over all N steps with the last pick
   * replaced by N−1, as the PyTorch twin draws them, would never train the last stratum's other steps:
   * steps 40–48 of 50 at fraction 0.1; trainer.md, "One iteration".)
   */
  static int[] stratifiedSteps(int numSteps, int k, Rng rng) {
    if (k < 1 || k > numSteps) {
      throw new IllegalArgumentException(k + " transitions of a " + numSteps + "-step trajectory; expected 1.."
          + numSteps);
    }
    int[] picks = new int[k];
    int strata = k - 1;
    int rest = numSteps - 1;
    for (int j = 0; j < strata; j++) {
      int lo = (int) ((long) j * rest / strata);
      int hi = (int) ((long) (j + 1) * rest / strata);
      picks[j] = lo + rng.nextInt(hi - lo);
    }
    picks[k - 1] = numSteps - 1;
    return picks;
  }

  /**
   * The learned residual log-flow gradient γ_t β ∇R(x̂0_θ(x, t)) + g_φ(x, t) at timestep t of the
   * sampler's step {@code step}, for each row of x.
   */
  public INDArray logFlowScore(INDArray x, int step, INDArray condition) {
    var st = sampler.step(step);
    if (nablaDb == null) {
      throw new IllegalStateException(objective.name() + " learns no log-flow");
    }
    double gammaBeta = nablaDb.rewardWeighting().gamma(st.alphaCumprod()) * reward.scale();
    DenoiserGraph flowGraph = flow == null ? null : flowGraph();
    return loss.logFlowScore(x, st.timestep(), condition, st.x0FromSample(), st.x0FromOutput(), gammaBeta,
        flowGraph == null ? null : flowGraph::predict);
  }

  private DenoiserGraph flowGraph() {
    if (flowGraph == null) {
      flowGraph = new DenoiserGraph(flow);
    }
    return flowGraph;
  }

  // ---- checkpoints ----

  private Map<String, String> config() {
    Map<String, String> c = new LinkedHashMap<>(objective.settings());
    c.put("flow", flow == null ? "none" : "network");
    c.put("sampler", sampler.toString());
    c.put("reward", reward.name());
    c.put("beta", Double.toString(reward.scale()));
    c.put("batchSize", Integer.toString(batchSize));
    c.put("seed", Long.toString(seed));
    c.put("policyOptimizer", policyOptimizer.toString());
    c.put("flowOptimizer", flowOptimizer.toString());
    c.put("policyParameters", shapes(policy));
    c.put("flowParameters", flow == null ? "none" : shapes(flow));
    return c;
  }

  private static String shapes(Denoiser d) {
    StringBuilder sb = new StringBuilder();
    d.parameters().asMap().forEach((k, v) -> sb.append(k).append(Arrays.toString(v.shape())).append(';'));
    return Integer.toHexString(sb.toString().hashCode()) + " (" + d.parameters().count() + " parameters)";
  }

  /** Writes a checkpoint of the current state now. */
  public void saveCheckpoint() {
    if (checkpointDir == null) {
      throw new IllegalStateException("no checkpoint directory configured");
    }
    Map<String, INDArray> tensors = modelTensors();
    policyState.toTensors().forEach((k, v) -> tensors.put("opt.policy." + k, v));
    if (flow != null) {
      flowState.toTensors().forEach((k, v) -> tensors.put("opt.flow." + k, v));
    }
    Map<String, String> provenance = new LinkedHashMap<>();
    provenance.put("library", "nabla " + Optional.ofNullable(NablaTrainer.class.getPackage().getImplementationVersion())
        .orElse("development"));
    provenance.put("java", System.getProperty("java.version"));
    provenance.put("written", java.time.Instant.now().toString());
    try {
      Checkpoints.write(checkpointDir, iteration, tensors, config(), provenance, history.records(), checkpointsKept);
    } catch (IOException e) {
      throw new UncheckedIOException("could not write checkpoint at iteration " + iteration + " to " + checkpointDir, e);
    }
  }

  private void resumeIfBehind() {
    Optional<Checkpoints.Loaded> latest;
    try {
      latest = Checkpoints.newestIntact(checkpointDir,
          e -> LOG.warn("skipping a damaged checkpoint, trying the next older one: {}", e.getMessage()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (latest.isEmpty() || latest.get().iteration() <= iteration) {
      return;
    }
    Checkpoints.Loaded c = latest.get();
    Map<String, String> mine = config();
    for (Map.Entry<String, String> e : mine.entrySet()) {
      String theirs = c.config().get(e.getKey());
      if (!e.getValue().equals(theirs)) {
        throw new IllegalStateException(c.manifest() + ": written by a different configuration: " + e.getKey()
            + " is '" + theirs + "' there but '" + e.getValue() + "' here");
      }
    }
    for (Map.Entry<String, INDArray> t : c.tensors().entrySet()) {
      INDArray v = t.getValue();
      if (v.dataType().isFPType() && !allFinite(v)) {
        throw new IllegalStateException(c.manifest() + ": tensor '" + t.getKey()
            + "' holds non-finite values; the trainer never writes them, so the checkpoint is damaged");
      }
    }
    Map<String, INDArray> pol = withPrefix(c.tensors(), "policy.");
    Map<String, INDArray> polOpt = withPrefix(c.tensors(), "opt.policy.");
    Map<String, INDArray> flo = withPrefix(c.tensors(), "flow.");
    Map<String, INDArray> floOpt = withPrefix(c.tensors(), "opt.flow.");
    Map<String, INDArray> rewardState = withPrefix(c.tensors(), "reward_state.");
    AdamW.State ps;
    AdamW.State fs = null;
    try {
      ps = AdamW.State.fromTensors(polOpt, policy.parameters());
      policy.parameters().validate(pol, false);
      if (flow != null) {
        fs = AdamW.State.fromTensors(floOpt, flow.parameters());
        flow.parameters().validate(flo, false);
      }
      checkRewardState(rewardState);
      // everything checked: now nothing can fail half-way
      reward.state().forEach((k, v) -> v.assign(rewardState.get(k)));
      policy.parameters().load(pol, false);
      if (flow != null) {
        flow.parameters().load(flo, false);
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException(c.manifest() + ": " + e.getMessage(), e);
    }
    policyState = ps;
    flowState = fs;
    iteration = c.iteration();
    history.clear();
    c.history().forEach(history::add);
    LOG.info("resumed from {} at iteration {}", c.manifest().getFileName(), iteration);
  }

  private static boolean allFinite(INDArray v) {
    for (double x : v.castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).data().asDouble()) {
      if (!Double.isFinite(x)) {
        return false;
      }
    }
    return true;
  }

  /** The tensors whose names start with {@code prefix}, with the prefix removed. */
  private static Map<String, INDArray> withPrefix(Map<String, INDArray> tensors, String prefix) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    tensors.forEach((k, v) -> {
      if (k.startsWith(prefix)) {
        out.put(k.substring(prefix.length()), v);
      }
    });
    return out;
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
      if ((objective instanceof RewardBackprop || objective instanceof Ddpo) && flow == null) {
        flow = FlowModel.none(); // the baselines learn no flow
      }
      require(flow != null, "flow", "null", "FlowModel.of(network) or FlowModel.none()");
      require(sampler != null, "sampler", "null", "a Sampler, e.g. Ddim.of(schedule, 50)");
      require(reward != null, "reward", "null", "a Reward, e.g. reward.scaled(beta)");
      require(reference != null, "reference", "null", "Reference.frozenCopy() or Reference.of(network)");
      require(objective instanceof NablaDbObjective || objective instanceof RewardBackprop
          || objective instanceof Ddpo, "objective", String.valueOf(objective),
          "Objectives.residualNablaDb(), nablaDb(), refl(), draftK(k), draftLv(n), alignProp() or ddpo()");
      boolean backprop = objective instanceof RewardBackprop || objective instanceof Ddpo;
      require(policyOptimizer != null, "policyOptimizer", "null", "an AdamW");
      require(flowOptimizer != null, "flowOptimizer", "null", "an AdamW");
      require(nonFinite != null, "onNonFinite", "null", "STOP or SKIP");
      require(execution != null, "execution", "null", "Execution.local() or a distributed execution");
      require(batchSize >= 1, "batchSize", Integer.toString(batchSize), ">= 1");
      require(rowsPerExecution >= -1, "rowsPerExecution", Integer.toString(rowsPerExecution),
          ">= 0 (0 = all rows in one execution)");
      require(checkpointEvery >= 0, "checkpointEvery", Integer.toString(checkpointEvery), ">= 0");
      require(checkpointsKept >= 1, "checkpointsKept", Integer.toString(checkpointsKept), ">= 1");
      require(reward.differentiable() || objective instanceof Ddpo, "reward", reward.name() + " (not differentiable)",
          "a differentiable reward for " + objective.name() + " (DDPO takes any reward)");
      require(!backprop || flow.network() == null, "flow", "a network",
          "FlowModel.none() with " + objective.name() + " (it learns no flow)");
      require(sampler.prediction() == policy.predictionType(), "sampler.prediction", sampler.prediction().name(),
          "the policy's prediction type " + policy.predictionType());
      for (int i = 0; (!backprop || objective instanceof Ddpo) && i < sampler.numSteps(); i++) {
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
