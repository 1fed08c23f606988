package io.github.nablagfn.core.train;

import io.github.nablagfn.core.objective.ChainBackprop;
import io.github.nablagfn.core.objective.RewardBackprop;
import io.github.nablagfn.core.objective.Trajectory;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The reward-backpropagation baselines (ReFL, DRaFT-K, DRaFT-LV, AlignProp): each share samples its rows and
 * backpropagates −mean R(x_0) through (part of) their chains ({@link ChainBackprop}); one term, {@code reward}.
 */
final class RewardBackpropEngine extends SampleAndLossEngine {
  static final String REWARD = "reward";

  private final RewardBackprop objective;
  private final Parts parts;
  private final ChainBackprop backprop;

  RewardBackpropEngine(RewardBackprop objective, Parts parts) {
    super(objective.name());
    this.objective = objective;
    this.parts = parts;
    this.backprop = new ChainBackprop(parts.policy(), parts.reward()).rowsPerExecution(parts.rowsPerExecution());
  }

  @Override
  RowResult loss(Trajectory rows, Share share) {
    ChainBackprop.Result res = backprop.compute(objective, parts.sampler(), rows, share.rowStream().fork("objective", 0));
    return RowResult.loss(share.from(), share.to(), share.batchSize(), LossTerms.of(REWARD, res.loss()),
        LossTerms.none(), res.policyGradients(), Map.of(), res.rewards().castTo(DataType.FLOAT).toFloatVector(),
        share.started());
  }
}
