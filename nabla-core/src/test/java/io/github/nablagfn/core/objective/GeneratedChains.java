package io.github.nablagfn.core.objective;

import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.sampler.TimestepSpacing;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/** QuickTheories generators of sampling chains and of small loss configurations, for property tests. */
final class GeneratedChains {
  private GeneratedChains() {}

  /** A DDIM chain: schedule (linear or scaled-linear over 1000 steps, final β drawn), spacing, steps and η. */
  record Chain(boolean scaledLinear, double betaEnd, TimestepSpacing spacing, int steps, double eta) {
    NoiseSchedule schedule() {
      return scaledLinear ? NoiseSchedule.scaledLinear(1000, 8.5e-4, betaEnd)
          : NoiseSchedule.linear(1000, 1e-4, betaEnd);
    }

    Sampler sampler(PredictionType prediction) {
      return Ddim.create(new Sampler.Settings(schedule(), steps, spacing, 0, prediction, false), eta);
    }

    /**
     * Whether every step has σ > 0, which the transition densities need: not so when a spacing ends the
     * chain at t = 0 (LEADING with few steps), where ᾱ_t equals the final ᾱ and the step is deterministic.
     */
    boolean stochastic() {
      Sampler s = sampler(PredictionType.EPSILON);
      for (int i = 0; i < steps; i++) {
        if (!(s.step(i).variance() > 0)) {
          return false;
        }
      }
      return true;
    }
  }

  /** Chains of 2 to {@code maxSteps} steps. */
  static Gen<Chain> chains(int maxSteps) {
    return Generate.booleans().zip(doubles().between(0.005, 0.03), Generate.enumValues(TimestepSpacing.class),
        integers().between(2, maxSteps), doubles().between(0.1, 1.0), Chain::new);
  }

  /**
   * Standard-normal states x_0 … x_N and model outputs of a batch of {@code batch} rows of {@code d}
   * coordinates: O(1) values, as in a sampled chain, with each x_s anywhere near x_t (any transition is a
   * valid input of the loss).
   */
  static Trajectory randomStates(Rng rng, int numSteps, int batch, int d) {
    INDArray[] states = new INDArray[numSteps + 1];
    INDArray[] outputs = new INDArray[numSteps];
    for (int i = 0; i <= numSteps; i++) {
      states[i] = rng.gaussian(batch, d);
      if (i < numSteps) {
        outputs[i] = rng.gaussian(batch, d);
      }
    }
    return new Trajectory(states, outputs, null);
  }

  /** A chain, a dimension d, a batch B, a reward scale β and a seed for everything else. */
  record Case(Chain chain, int dim, int batch, double beta, long seed) {}

  /** Cases with chains of up to 20 steps, d in 1..4, B in 1..5, β in [0.5, 10]. */
  static Gen<Case> cases() {
    return chains(20).zip(integers().between(1, 4), integers().between(1, 5), doubles().between(0.5, 10.0),
        longs().all(), Case::new);
  }
}
