package io.github.nablagfn.core.train;

import io.github.nablagfn.core.objective.DbLoss;
import io.github.nablagfn.core.objective.DbObjective;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.objective.TransitionBatch;

/**
 * The DB family (DAG-DB, Residual DB): K stratified transitions per trajectory ({@link StepSelector}, the
 * final one always included), their balance term {@code balance} and the gradients of θ and φ
 * ({@link DbLoss}); each share samples its rows and computes their loss in one task.
 */
final class DbEngine extends SampleAndLossEngine {
  static final String BALANCE = "balance";

  private final DbObjective objective;
  private final Parts parts;
  private final DbLoss loss;

  DbEngine(DbObjective objective, Parts parts) {
    super(objective.name());
    this.objective = objective;
    this.parts = parts;
    this.loss = new DbLoss(objective, parts.policy(), parts.reference(), parts.flow(), parts.reward())
        .rowsPerExecution(parts.rowsPerExecution());
  }

  @Override
  RowResult loss(Trajectory rows, Share share) {
    int n = parts.sampler().numSteps();
    int[] steps = StepSelector.stratified(n, objective.transitionsPerTrajectory(n), share.stream().fork("strata", 0));
    TransitionBatch batch = TransitionBatch.of(parts.sampler(), rows, steps, objective.rewardWeighting(),
        parts.reward().scale());
    DbLoss.Result res = loss.compute(batch);
    // reward of x_0: the final transition's rows (the last rows of the batch)
    float[] rewards = new float[share.size()];
    for (int i = 0; i < rewards.length; i++) {
      rewards[i] = (float) res.rewardNext()[batch.rows() - share.size() + i];
    }
    return RowResult.loss(share.from(), share.to(), share.batchSize(), LossTerms.of(BALANCE, res.balance()),
        LossTerms.none(), res.policyGradients(), res.flowGradients(), rewards, share.started());
  }
}
