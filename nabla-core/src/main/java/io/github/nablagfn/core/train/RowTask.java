package io.github.nablagfn.core.train;

import java.io.Serializable;
import java.util.Objects;

/**
 * One piece of an iteration's work that is split over the rows (trajectories) of the batch: what an
 * {@link Execution} runs on each share of rows with {@link NablaTrainer#computeRows(RowTask, int, int)}.
 * Plain data, so that it can be shipped to other processes. Which tasks an iteration runs is the objective's
 * choice: a single {@link SampleAndLoss} (the reward-backpropagation baselines; the ∇-DB family with one
 * update per batch), or a {@link Sample} followed by one update task per inner epoch ({@link NablaDbUpdate},
 * {@link DdpoUpdate}), which need the whole sampled batch.
 */
public sealed interface RowTask extends Serializable {
  /** An update task: computed on trajectories the iteration sampled before. */
  sealed interface OnSampledBatch extends RowTask permits NablaDbUpdate, DdpoUpdate {
    SampledBatch batch();
  }

  /** The iteration whose random streams the task uses. */
  long iteration();

  /** Sample the rows' trajectories with the current policy and compute the objective's loss and gradients on them. */
  record SampleAndLoss(long iteration) implements RowTask {}

  /** Sample the rows' trajectories and return them with their rewards. */
  record Sample(long iteration) implements RowTask {}

  /**
   * The ∇-DB family's loss and gradients on the sampled batch's trajectories at the given transition steps (one
   * inner epoch).
   */
  record NablaDbUpdate(long iteration, int[] steps, SampledBatch batch) implements OnSampledBatch {
    public NablaDbUpdate {
      Objects.requireNonNull(steps, "steps");
      Objects.requireNonNull(batch, "batch");
    }
  }

  /**
   * DDPO's clipped surrogate and its gradient on the sampled batch's trajectories at the given steps, with the
   * advantage of every trajectory of the batch (one inner epoch).
   */
  record DdpoUpdate(long iteration, int[] steps, SampledBatch batch, double[] advantages) implements OnSampledBatch {
    public DdpoUpdate {
      Objects.requireNonNull(steps, "steps");
      Objects.requireNonNull(batch, "batch");
      Objects.requireNonNull(advantages, "advantages");
    }
  }

  /**
   * Sampled trajectories: the states {@code s.0} … {@code s.N} and model outputs {@code o.0} … {@code o.N-1}
   * (rows = trajectories) and, for a conditional policy, each row's condition ({@code null} for an
   * unconditional one).
   */
  record SampledBatch(HostTensors trajectory, long[] conditions) implements Serializable {
    public SampledBatch {
      Objects.requireNonNull(trajectory, "trajectory");
    }
  }
}
