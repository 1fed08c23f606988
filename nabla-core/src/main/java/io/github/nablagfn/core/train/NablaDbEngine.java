package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.NablaDbObjective;
import io.github.nablagfn.core.objective.ResidualNablaDbLoss;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.objective.TransitionBatch;
import io.github.nablagfn.core.runtime.Rng;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The ∇-DB family (Residual ∇-DB, plain ∇-DB, forward-only): K stratified transitions per trajectory
 * ({@link StepSelector}), their four balance terms and the gradients of θ and φ ({@link ResidualNablaDbLoss}).
 * With one update per batch each share samples its rows and computes their loss in one task; with more,
 * inner epoch e draws its transitions from the iteration's stream "strata" e.
 */
final class NablaDbEngine implements ObjectiveEngine {
  static final String FORWARD_BALANCE = "forward_balance";
  static final String BACKWARD_BALANCE = "backward_balance";
  static final String TERMINAL = "terminal";
  static final String REGULARISER = "regulariser";

  private final NablaDbObjective objective;
  private final Parts parts;
  private final ResidualNablaDbLoss loss;
  private DenoiserGraph flowGraph; // built on first use by logFlowScore

  NablaDbEngine(NablaDbObjective objective, Parts parts) {
    this.objective = objective;
    this.parts = parts;
    this.loss = new ResidualNablaDbLoss(objective, parts.policy(), parts.reference(), parts.flow(), parts.reward())
        .rowsPerExecution(parts.rowsPerExecution());
  }

  @Override
  public String name() {
    return objective.name();
  }

  @Override
  public boolean samplesAndLossInOneTask() {
    return objective.innerEpochs() == 1;
  }

  @Override
  public int innerEpochs() {
    return objective.innerEpochs();
  }

  private int[] steps(Rng stream, int epoch) {
    int n = parts.sampler().numSteps();
    return StepSelector.stratified(n, objective.transitionsPerTrajectory(n), stream.fork("strata", epoch));
  }

  @Override
  public RowTask update(long iteration, Rng stream, RowTask.SampledBatch batch, float[] rewards, int epoch) {
    return new RowTask.NablaDbUpdate(iteration, steps(stream, epoch), batch);
  }

  @Override
  public RowResult loss(RowTask task, Trajectory rows, Share share) {
    int[] steps;
    if (task instanceof RowTask.SampleAndLoss) {
      steps = steps(share.stream(), 0);
    } else if (task instanceof RowTask.NablaDbUpdate u) {
      steps = u.steps();
    } else {
      throw new IllegalStateException("a " + task.getClass().getSimpleName() + " task for a trainer of " + name());
    }
    TransitionBatch batch = TransitionBatch.of(parts.sampler(), rows, steps, objective.rewardWeighting(),
        parts.reward().scale());
    ResidualNablaDbLoss.Result res = loss.compute(batch);
    ResidualNablaDbLoss.Terms t = res.terms();
    // reward of x_0: the final transition's x_s rows (the last rows of the batch)
    INDArray rw = res.scores().rewardNext().get(NDArrayIndex.interval(batch.rows() - share.size(), batch.rows()));
    return RowResult.loss(share.from(), share.to(), share.batchSize(),
        LossTerms.of(FORWARD_BALANCE, t.forwardBalance(), BACKWARD_BALANCE, t.backwardBalance(), TERMINAL,
            t.terminal(), REGULARISER, t.regulariser()),
        LossTerms.none(), res.policyGradients(), res.flowGradients(), rw.castTo(DataType.FLOAT).toFloatVector(),
        share.started());
  }

  @Override
  public INDArray logFlowScore(INDArray x, int step, INDArray condition) {
    var st = parts.sampler().step(step);
    double gammaBeta = objective.rewardWeighting().gamma(st.alphaCumprod()) * parts.reward().scale();
    DenoiserGraph g = flowGraph();
    return loss.logFlowScore(x, st.timestep(), condition, st.x0FromSample(), st.x0FromOutput(), gammaBeta,
        g == null ? null : g::predict);
  }

  private synchronized DenoiserGraph flowGraph() {
    if (flowGraph == null && parts.flow() != null) {
      flowGraph = new DenoiserGraph(parts.flow());
    }
    return flowGraph;
  }
}
