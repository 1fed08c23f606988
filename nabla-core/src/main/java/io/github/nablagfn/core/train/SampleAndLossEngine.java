package io.github.nablagfn.core.train;

import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.runtime.Rng;

/**
 * An engine whose shares sample their rows and differentiate their loss in one task (one epoch, no update
 * tasks): the reward-backpropagation baselines and the DB family. Subclasses compute a share's loss from
 * its sampled rows.
 */
abstract sealed class SampleAndLossEngine implements ObjectiveEngine permits DbEngine, RewardBackpropEngine {
  private final String name;

  SampleAndLossEngine(String name) {
    this.name = name;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final boolean samplesAndLossInOneTask() {
    return true;
  }

  @Override
  public final int innerEpochs() {
    return 1;
  }

  @Override
  public final RowTask update(long iteration, Rng stream, RowTask.SampledBatch batch, float[] rewards, int epoch) {
    throw new IllegalStateException(name + " samples and differentiates its rows in one task");
  }

  @Override
  public final RowResult loss(RowTask task, Trajectory rows, Share share) {
    if (!(task instanceof RowTask.SampleAndLoss)) {
      throw new IllegalStateException("a " + task.getClass().getSimpleName() + " task for a trainer of " + name);
    }
    return loss(rows, share);
  }

  /** The loss terms and gradients of a share's sampled rows. */
  abstract RowResult loss(Trajectory rows, Share share);
}
