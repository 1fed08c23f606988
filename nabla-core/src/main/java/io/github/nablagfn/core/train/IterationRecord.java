package io.github.nablagfn.core.train;

/**
 * What one training iteration measured: the loss terms (means over elements and transitions),
 * the reward of the sampled x_0 (unscaled R, mean and standard deviation over the batch), the
 * gradient norms before clipping, whether the update was applied, and the wall time.
 */
public record IterationRecord(long iteration, double lossForward, double lossBackward, double lossTerminal,
    double lossRegulariser, double loss, double rewardMean, double rewardStd, double gradNormPolicy,
    double gradNormFlow, boolean applied, double wallMillis) {

  /** The same record without the wall time (for comparing runs). */
  public IterationRecord withoutTime() {
    return new IterationRecord(iteration, lossForward, lossBackward, lossTerminal, lossRegulariser, loss, rewardMean,
        rewardStd, gradNormPolicy, gradNormFlow, applied, 0.0);
  }
}
