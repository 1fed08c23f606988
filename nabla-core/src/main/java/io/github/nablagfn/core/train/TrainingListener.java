package io.github.nablagfn.core.train;

/** Receives every iteration's record as it completes. */
@FunctionalInterface
public interface TrainingListener {
  void onIteration(IterationRecord record);
}
