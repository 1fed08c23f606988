package io.github.nablagfn.core.testing;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Trajectory;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Sampler;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Samples a recorded trajectory batch with a denoiser, as the trainer does. */
public final class Trajectories {
  private Trajectories() {}

  public static Trajectory sample(Denoiser policy, Sampler sampler, int batch, long seed) {
    int n = sampler.numSteps();
    INDArray[] states = new INDArray[n + 1];
    INDArray[] outputs = new INDArray[n];
    states[0] = Rng.of(seed).gaussian(DenoiserGraph.withBatch(batch, policy.sampleShape()));
    sampler.sample(new DenoiserGraph(policy), states[0], null, Rng.of(seed + 1), (i, x, out, next) -> {
      outputs[i] = out;
      states[i + 1] = next;
    });
    return new Trajectory(states, outputs, null);
  }
}
