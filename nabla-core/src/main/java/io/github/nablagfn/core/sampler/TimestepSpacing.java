package io.github.nablagfn.core.sampler;

import java.util.Arrays;

/**
 * How N inference timesteps are chosen from T training timesteps (diffusers' {@code timestep_spacing}),
 * in descending order:
 * <ul>
 *   <li>{@link #LEADING}: t_i = (N−1−i)·⌊T/N⌋ + offset (Stable Diffusion: offset 1 gives 981, 961, ..., 1 for T=1000, N=50)</li>
 *   <li>{@link #TRAILING}: t_i = round(T − i·T/N) − 1 (999, 979, ..., 19)</li>
 *   <li>{@link #LINSPACE}: round(linspace(0, T−1, N)) reversed (999, ..., 0)</li>
 * </ul>
 * As in diffusers, the steps offset applies to leading spacing only.
 */
public enum TimestepSpacing {
  LEADING,
  TRAILING,
  LINSPACE;

  /** The N timesteps, descending; throws if N or the offset (leading only) do not fit in T. */
  public int[] timesteps(int numTrainTimesteps, int numSteps, int stepsOffset) {
    if (numSteps < 1 || numSteps > numTrainTimesteps) {
      throw new IllegalArgumentException("numSteps = " + numSteps + "; expected 1.." + numTrainTimesteps
          + " (the schedule's T)");
    }
    if (stepsOffset < 0) {
      throw new IllegalArgumentException("stepsOffset = " + stepsOffset + "; expected >= 0");
    }
    int[] t = new int[numSteps];
    switch (this) {
      case LEADING: {
        int ratio = numTrainTimesteps / numSteps;
        for (int i = 0; i < numSteps; i++) {
          t[i] = (numSteps - 1 - i) * ratio + stepsOffset;
        }
        break;
      }
      case TRAILING: {
        double ratio = (double) numTrainTimesteps / numSteps;
        for (int i = 0; i < numSteps; i++) {
          t[i] = (int) Math.round(numTrainTimesteps - i * ratio) - 1;
        }
        break;
      }
      case LINSPACE: {
        for (int i = 0; i < numSteps; i++) {
          double v = numSteps == 1 ? 0.0 : (double) (numTrainTimesteps - 1) * (numSteps - 1 - i) / (numSteps - 1);
          t[i] = (int) Math.round(v);
        }
        break;
      }
      default:
        throw new IllegalStateException(name());
    }
    for (int i = 0; i < numSteps; i++) {
      if (t[i] < 0 || t[i] >= numTrainTimesteps || (i > 0 && t[i] >= t[i - 1])) {
        throw new IllegalArgumentException(this + " spacing with T = " + numTrainTimesteps + ", N = " + numSteps
            + ", stepsOffset = " + stepsOffset + " gives timestep " + t[i] + " at index " + i + " (" + summary(t)
            + "); expected strictly decreasing values in [0, " + numTrainTimesteps + ")"
            + (this == LEADING && stepsOffset > 0 ? "; use stepsOffset 0 or TRAILING spacing for this many steps" : ""));
      }
    }
    return t;
  }

  private static String summary(int[] t) {
    if (t.length <= 6) {
      return Arrays.toString(t);
    }
    return "[" + t[0] + ", " + t[1] + ", " + t[2] + ", ..., " + t[t.length - 2] + ", " + t[t.length - 1] + "]";
  }
}
