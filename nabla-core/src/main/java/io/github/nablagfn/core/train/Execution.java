package io.github.nablagfn.core.train;

/**
 * Where the row-parallel part of an iteration runs. The trainer asks for a {@link RowTask} over all B
 * rows of its batch; an execution splits the rows into shares, has each share computed by a trainer of
 * the same configuration and parameters ({@link NablaTrainer#computeRows}), and returns the combined
 * {@link RowResult} ({@link RowResult#plus}). Parameters are updated by the calling trainer only, once
 * per iteration, after the execution returned: an execution that throws leaves the trainer unchanged.
 *
 * <p>{@link #local()} computes all rows in the calling trainer (the default); the {@code nabla-spark}
 * module runs the shares as Spark tasks.
 */
@FunctionalInterface
public interface Execution {
  /** The combined result of {@code task} over rows [0, batchSize) of {@code trainer}'s batch. */
  RowResult run(NablaTrainer trainer, RowTask task);

  /** All rows in the calling trainer, in one share. */
  static Execution local() {
    return (trainer, task) -> trainer.computeRows(task, 0, trainer.batchSize());
  }
}
