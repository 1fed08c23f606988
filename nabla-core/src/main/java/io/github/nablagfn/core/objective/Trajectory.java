package io.github.nablagfn.core.objective;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One sampled batch of trajectories: {@code states[i]} is x at the i-th timestep (states[0] = x_T,
 * states[N] = x_0), {@code outputs[i]} the model output used at step i (ε at sampling time), and the
 * per-sample condition (null for unconditional models).
 */
public record Trajectory(INDArray[] states, INDArray[] outputs, INDArray condition) {
  public Trajectory {
    if (states.length != outputs.length + 1) {
      throw new IllegalArgumentException(states.length + " states for " + outputs.length + " steps; expected one more");
    }
  }

  public int numSteps() {
    return outputs.length;
  }

  /** x_0, the samples. */
  public INDArray samples() {
    return states[states.length - 1];
  }
}
