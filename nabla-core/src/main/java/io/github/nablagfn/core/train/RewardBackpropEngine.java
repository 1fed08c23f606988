package io.github.nablagfn.core.train;

import io.github.nablagfn.core.objective.ChainBackprop;
import io.github.nablagfn.core.objective.RewardBackprop;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.runtime.Rng;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The reward-backpropagation baselines (ReFL, DRaFT-K, DRaFT-LV, AlignProp): each share samples its rows and
 * backpropagates −mean R(x_0) through (part of) their chains ({@link ChainBackprop}); one term, {@code reward}.
 */
final class RewardBackpropEngine implements ObjectiveEngine {
  static final String REWARD = "reward";

  private final RewardBackprop objective;
  private final Parts parts;
  private final ChainBackprop backprop;

  RewardBackpropEngine(RewardBackprop objective, Parts parts) {
    this.objective = objective;
    this.parts = parts;
    this.backprop = new ChainBackprop(parts.policy(), parts.reward()).rowsPerExecution(parts.rowsPerExecution());
  }

  @Override
  public String name() {
    return objective.name();
  }

  @Override
  public boolean samplesAndLossInOneTask() {
    return true;
  }

  @Override
  public int innerEpochs() {
    return 1;
  }

  @Override
  public RowTask update(long iteration, Rng stream, RowTask.SampledBatch batch, float[] rewards, int epoch) {
    throw new IllegalStateException(name() + " samples and differentiates its rows in one task");
  }

  @Override
  public RowResult loss(RowTask task, Trajectory rows, Share share) {
    if (!(task instanceof RowTask.SampleAndLoss)) {
      throw new IllegalStateException("a " + task.getClass().getSimpleName() + " task for a trainer of " + name());
    }
    ChainBackprop.Result res = backprop.compute(objective, parts.sampler(), rows, share.rowStream().fork("objective", 0));
    return RowResult.loss(share.from(), share.to(), share.batchSize(), LossTerms.of(REWARD, res.loss()),
        LossTerms.none(), res.policyGradients(), Map.of(), res.rewards().castTo(DataType.FLOAT).toFloatVector(),
        share.started());
  }
}
