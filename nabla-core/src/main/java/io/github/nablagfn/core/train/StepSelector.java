package io.github.nablagfn.core.train;

import io.github.nablagfn.core.runtime.Rng;

/** Which of a trajectory's N steps an iteration trains. */
final class StepSelector {
  private StepSelector() {}

  /**
   * K of N steps: the final step N−1 (always trained) and one step from each of K−1 strata of the other
   * N−1 steps, boundaries b_j = ⌊j·(N−1)/(K−1)⌋, pick b_j + U{0..b_{j+1}−b_j−1}. Every step has a
   * positive chance; with K = N every step is taken once. (Strata over all N steps with the last pick
   * replaced by N−1, as the PyTorch twin draws them, would never train the last stratum's other steps:
   * steps 40–48 of 50 at fraction 0.1; trainer.md, "One iteration".)
   */
  static int[] stratified(int numSteps, int k, Rng rng) {
    if (k < 1 || k > numSteps) {
      throw new IllegalArgumentException(k + " transitions of a " + numSteps + "-step trajectory; expected 1.."
          + numSteps);
    }
    int[] picks = new int[k];
    int strata = k - 1;
    int rest = numSteps - 1;
    for (int j = 0; j < strata; j++) {
      int lo = (int) ((long) j * rest / strata);
      int hi = (int) ((long) (j + 1) * rest / strata);
      picks[j] = lo + rng.nextInt(hi - lo);
    }
    picks[k - 1] = numSteps - 1;
    return picks;
  }
}
