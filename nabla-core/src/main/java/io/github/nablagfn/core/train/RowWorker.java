package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Columns;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Sampler;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Computes a {@link RowTask} on a share of the batch's rows: samples the rows' trajectories (or takes them from
 * the task) and hands them to the objective's engine. Reads the parameters, never changes them; the same
 * worker runs in the trainer and, built from the same configuration, on other processes.
 */
final class RowWorker {
  private final Denoiser policy;
  private final Sampler sampler;
  private final Reward reward;
  private final ConditionSampler conditions;
  private final Rng rng;
  private final int batchSize;
  private final ObjectiveEngine engine;
  private final DenoiserGraph sampling;

  RowWorker(Denoiser policy, Sampler sampler, Reward reward, ConditionSampler conditions, Rng rng, int batchSize,
      ObjectiveEngine engine) {
    this.policy = policy;
    this.sampler = sampler;
    this.reward = reward;
    this.conditions = conditions;
    this.rng = rng;
    this.batchSize = batchSize;
    this.engine = engine;
    this.sampling = new DenoiserGraph(policy);
  }

  /** See {@link NablaTrainer#computeRows}. */
  RowResult compute(RowTask task, int from, int to) {
    if (from < 0 || to > batchSize || from >= to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + batchSize);
    }
    long started = System.nanoTime();
    Rng stream = rng.fork("iteration", task.iteration());
    ObjectiveEngine.Share share = new ObjectiveEngine.Share(from, to, batchSize, stream,
        stream.rows(from, to, batchSize), started);
    if (task instanceof RowTask.OnSampledBatch u) {
      return engine.loss(task, rows(u.batch(), from, to), share);
    }
    Trajectory trajectory = sample(share);
    if (task instanceof RowTask.Sample) {
      return samples(trajectory, share);
    }
    return engine.loss(task, trajectory, share);
  }

  /** The share's trajectories sampled with the current policy, recording x_t and the model output. */
  private Trajectory sample(ObjectiveEngine.Share share) {
    INDArray allConditions = conditions.sample(share.stream().fork("condition", 0), batchSize);
    INDArray condition = allConditions == null ? null : Columns.rows(allConditions, share.from(), share.to());
    long[] shape = DenoiserGraph.withBatch(share.size(), policy.sampleShape());
    int n = sampler.numSteps();
    INDArray[] states = new INDArray[n + 1];
    INDArray[] outputs = new INDArray[n];
    states[0] = share.rowStream().fork("init", 0).gaussian(shape);
    sampler.sample(sampling, states[0], condition, share.rowStream().fork("sampling", 0), (i, x, out, next) -> {
      outputs[i] = out;
      states[i + 1] = next;
    });
    return new Trajectory(states, outputs, condition);
  }

  private RowResult samples(Trajectory trajectory, ObjectiveEngine.Share share) {
    INDArray[] states = trajectory.states();
    INDArray[] outputs = trajectory.outputs();
    int n = sampler.numSteps();
    INDArray condition = trajectory.condition();
    INDArray rw = reward.evaluate(states[n], condition).castTo(DataType.FLOAT);
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    for (int i = 0; i <= n; i++) {
      tensors.put("s." + i, states[i]);
    }
    for (int i = 0; i < n; i++) {
      tensors.put("o." + i, outputs[i]);
    }
    long[] c = condition == null ? null : condition.castTo(DataType.INT64).toLongVector();
    return RowResult.samples(share.from(), share.to(), rw.toFloatVector(),
        new RowTask.SampledBatch(HostTensors.of(tensors), c), share.started());
  }

  /** Rows [from, to) of a sampled batch as a trajectory. */
  private Trajectory rows(RowTask.SampledBatch batch, int from, int to) {
    int n = sampler.numSteps();
    HostTensors traj = batch.trajectory();
    INDArray[] states = new INDArray[n + 1];
    INDArray[] outputs = new INDArray[n];
    for (int i = 0; i <= n; i++) {
      states[i] = Columns.rowsOrWhole(traj.get("s." + i), from, to);
    }
    for (int i = 0; i < n; i++) {
      outputs[i] = Columns.rowsOrWhole(traj.get("o." + i), from, to);
    }
    long[] conds = batch.conditions();
    INDArray c = conds == null ? null : Nd4j.createFromArray(Arrays.copyOfRange(conds, from, to));
    return new Trajectory(states, outputs, c);
  }
}
