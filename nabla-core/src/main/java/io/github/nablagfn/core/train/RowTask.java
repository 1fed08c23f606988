package io.github.nablagfn.core.train;

import java.io.Serializable;

/**
 * One piece of an iteration's work that is split over the rows (trajectories) of the batch: what an
 * {@link Execution} runs on each share of rows with {@link NablaTrainer#computeRows(RowTask, int, int)}.
 * Plain data, so that it can be shipped to other processes.
 *
 * @param kind what to compute
 * @param iteration the iteration whose random streams are used
 * @param steps DDPO and NABLA_DB: the chosen transition steps (batch-level), else null
 * @param advantages DDPO: the advantage of every trajectory of the batch (B), else null
 * @param trajectory DDPO and NABLA_DB: the whole batch's trajectory ({@code s.i}, {@code o.i}), else null
 * @param conditions DDPO and NABLA_DB: the whole batch's conditions (B), or null
 */
public record RowTask(Kind kind, long iteration, int[] steps, double[] advantages, HostTensors trajectory,
    long[] conditions) implements Serializable {

  /** What a task computes for its rows. */
  public enum Kind {
    /** Sample the rows' trajectories and compute the objective's loss and gradients on them (∇-DB, backprop). */
    GRADIENTS,
    /** Sample the rows' trajectories and return them with their rewards (DDPO's first phase). */
    SAMPLES,
    /** DDPO's clipped surrogate and its gradient on given trajectories (one inner epoch). */
    DDPO,
    /** The ∇-DB family's loss and gradients on given trajectories and steps (one inner epoch). */
    NABLA_DB
  }

  public static RowTask gradients(long iteration) {
    return new RowTask(Kind.GRADIENTS, iteration, null, null, null, null);
  }

  public static RowTask samples(long iteration) {
    return new RowTask(Kind.SAMPLES, iteration, null, null, null, null);
  }

  public static RowTask nablaDb(long iteration, int[] steps, HostTensors trajectory, long[] conditions) {
    return new RowTask(Kind.NABLA_DB, iteration, steps, null, trajectory, conditions);
  }

  public static RowTask ddpo(long iteration, int[] steps, double[] advantages, HostTensors trajectory, long[] conditions) {
    return new RowTask(Kind.DDPO, iteration, steps, advantages, trajectory, conditions);
  }
}
