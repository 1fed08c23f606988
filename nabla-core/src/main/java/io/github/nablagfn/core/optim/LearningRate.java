package io.github.nablagfn.core.optim;

/** A learning-rate schedule: the rate for iteration k = 0, 1, 2, ... */
@FunctionalInterface
public interface LearningRate {
  double at(long iteration);

  /** The same rate at every iteration. */
  static LearningRate constant(double lr) {
    check(lr);
    return k -> lr;
  }

  /**
   * Linear warm-up from 0 over {@code warmup} iterations, then constant: a schedule that does not depend on
   * the total length, so a run can be extended by resuming.
   */
  static LearningRate warmup(double lr, long warmup) {
    check(lr);
    if (warmup < 0) {
      throw new IllegalArgumentException("warm-up = " + warmup + " iterations; expected >= 0");
    }
    return k -> k < warmup ? lr * (k + 1) / warmup : lr;
  }

  /**
   * Linear warm-up from 0 over {@code warmup} iterations, then cosine decay to {@code floor · lr} at
   * iteration {@code total} (and held there after).
   */
  static LearningRate cosine(double lr, long warmup, long total, double floor) {
    check(lr);
    if (warmup < 0 || total < 1 || warmup >= total) {
      throw new IllegalArgumentException("cosine schedule: warmup = " + warmup + ", total = " + total
          + "; expected 0 <= warmup < total");
    }
    if (!(floor >= 0 && floor <= 1)) {
      throw new IllegalArgumentException("cosine schedule: floor = " + floor + "; expected in [0, 1]");
    }
    return k -> {
      if (k < warmup) {
        return lr * (k + 1) / warmup;
      }
      double progress = Math.min(1.0, (double) (k - warmup) / (total - warmup));
      return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    };
  }

  private static void check(double lr) {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("learning rate = " + lr + "; expected a finite value > 0");
    }
  }
}
