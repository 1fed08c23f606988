package io.github.nablagfn.core.train;

import io.github.nablagfn.core.objective.Ddpo;
import io.github.nablagfn.core.objective.DdpoLoss;
import io.github.nablagfn.core.objective.RewardWeighting;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.objective.TransitionBatch;
import io.github.nablagfn.core.runtime.Rng;
import java.util.Arrays;
import java.util.Map;

/**
 * DDPO: the whole batch is sampled first (any reward), advantages are standardised per condition over the
 * batch, then every inner epoch computes the clipped surrogate on the same trajectories and steps (the
 * iteration's stream "strata" 0). Term {@code surrogate}; diagnostics {@code ratio_deviation} (mean |ρ − 1|)
 * and {@code clipped_fraction}.
 */
final class DdpoEngine implements ObjectiveEngine {
  static final String SURROGATE = "surrogate";

  private final Ddpo objective;
  private final Parts parts;
  private final DdpoLoss loss;

  DdpoEngine(Ddpo objective, Parts parts) {
    this.objective = objective;
    this.parts = parts;
    this.loss = new DdpoLoss(objective, parts.policy()).rowsPerExecution(parts.rowsPerExecution());
  }

  @Override
  public String name() {
    return objective.name();
  }

  @Override
  public boolean samplesAndLossInOneTask() {
    return false;
  }

  @Override
  public int innerEpochs() {
    return objective.innerEpochs();
  }

  @Override
  public RowTask update(long iteration, Rng stream, RowTask.SampledBatch batch, float[] rewards, int epoch) {
    double[] r = new double[rewards.length];
    for (int i = 0; i < r.length; i++) {
      r[i] = rewards[i];
    }
    int n = parts.sampler().numSteps();
    int[] steps = StepSelector.stratified(n, objective.transitionsPerTrajectory(n), stream.fork("strata", 0));
    return new RowTask.DdpoUpdate(iteration, steps, batch, DdpoLoss.advantages(r, batch.conditions()));
  }

  @Override
  public RowResult loss(RowTask task, Trajectory rows, Share share) {
    if (!(task instanceof RowTask.DdpoUpdate u)) {
      throw new IllegalStateException("a " + task.getClass().getSimpleName() + " task for a trainer of " + name());
    }
    TransitionBatch batch = TransitionBatch.of(parts.sampler(), rows, u.steps(), RewardWeighting.ALPHA_BAR, 0.0);
    DdpoLoss.Result res = loss.compute(batch, Arrays.copyOfRange(u.advantages(), share.from(), share.to()));
    return RowResult.loss(share.from(), share.to(), share.batchSize(), LossTerms.of(SURROGATE, res.loss()),
        LossTerms.of("ratio_deviation", res.meanRatioDeviation(), "clipped_fraction", res.clippedFraction()),
        res.policyGradients(), Map.of(), new float[share.size()], share.started());
  }
}
