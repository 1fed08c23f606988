package io.github.nablagfn.core.sampler;

import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.util.Arrays;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A reverse-process sampler: N timesteps chosen from the schedule and one {@link GaussianStep} per
 * timestep. Immutable; the {@code withX} methods return a modified copy.
 *
 * <p>Step i maps x at t_i to x at s_i = t_{i+1}; the last step maps x at t_{N−1} to x_0 and uses
 * ᾱ_s = ᾱ_0 (Stable Diffusion's {@code set_alpha_to_one = false}, the default, which keeps σ > 0 on
 * the final step) or ᾱ_s = 1 with {@link #withAlphaToOne(boolean)}.
 */
public abstract class Sampler {
  /** Settings shared by every sampler. */
  public record Settings(NoiseSchedule schedule, int numSteps, TimestepSpacing spacing, int stepsOffset,
      PredictionType prediction, boolean alphaToOne) {
    public Settings {
      Objects.requireNonNull(schedule, "schedule");
      Objects.requireNonNull(spacing, "spacing");
      Objects.requireNonNull(prediction, "prediction");
    }
  }

  /** The model call a sampling loop needs: raw output for x_t at timesteps t (one per row) and a condition (may be null). */
  @FunctionalInterface
  public interface Model {
    INDArray predict(INDArray sample, int[] timesteps, INDArray condition);
  }

  protected final Settings settings;
  private final int[] timesteps;
  private final GaussianStep[] steps;

  protected Sampler(Settings settings) {
    this.settings = settings;
    this.timesteps = settings.spacing().timesteps(settings.schedule().numTrainTimesteps(), settings.numSteps(),
        settings.stepsOffset());
    this.steps = new GaussianStep[timesteps.length];
  }

  /** Builds the step table; subclasses call this at the end of their constructor. */
  protected final void buildSteps() {
    double[] abar = settings.schedule().alphasCumprod();
    double finalAbar = settings.alphaToOne() ? 1.0 : abar[0];
    for (int i = 0; i < timesteps.length; i++) {
      int t = timesteps[i];
      int s = i + 1 < timesteps.length ? timesteps[i + 1] : t - settings.schedule().numTrainTimesteps() / timesteps.length;
      double abarT = abar[t];
      double abarS = s >= 0 ? abar[s] : finalAbar;
      double[] meanCoefs = meanInX0AndEps(abarT, abarS); // {fromX0, fromEps, fromSample, variance}
      double[] p = settings.prediction().coefficients(abarT);
      double mx = meanCoefs[0] * p[0] + meanCoefs[1] * p[2] + meanCoefs[2];
      double mo = meanCoefs[0] * p[1] + meanCoefs[1] * p[3];
      steps[i] = new GaussianStep(i, t, s, abarT, abarS, meanCoefs[3], p[0], p[1], p[2], p[3], mx, mo);
    }
  }

  /**
   * The step's mean written as μ = a·x̂0 + b·ε̂ + c·x_t, and its variance σ², for ᾱ_t and ᾱ_s.
   *
   * @return {a, b, c, σ²}
   */
  protected abstract double[] meanInX0AndEps(double abarT, double abarS);

  /** A copy with other shared settings. */
  protected abstract Sampler with(Settings settings);

  public Settings settings() {
    return settings;
  }

  public NoiseSchedule schedule() {
    return settings.schedule();
  }

  public int numSteps() {
    return timesteps.length;
  }

  public PredictionType prediction() {
    return settings.prediction();
  }

  /** t_0 > t_1 > ... > t_{N−1} (a copy). */
  public int[] timesteps() {
    return timesteps.clone();
  }

  /** The Gaussian transition of step i. */
  public GaussianStep step(int i) {
    if (i < 0 || i >= steps.length) {
      throw new IllegalArgumentException("step " + i + " outside [0, " + steps.length + ")");
    }
    return steps[i];
  }

  public Sampler withSpacing(TimestepSpacing spacing) {
    return with(new Settings(settings.schedule(), settings.numSteps(), spacing, settings.stepsOffset(),
        settings.prediction(), settings.alphaToOne()));
  }

  public Sampler withStepsOffset(int offset) {
    return with(new Settings(settings.schedule(), settings.numSteps(), settings.spacing(), offset,
        settings.prediction(), settings.alphaToOne()));
  }

  public Sampler withPrediction(PredictionType prediction) {
    return with(new Settings(settings.schedule(), settings.numSteps(), settings.spacing(), settings.stepsOffset(),
        prediction, settings.alphaToOne()));
  }

  public Sampler withAlphaToOne(boolean alphaToOne) {
    return with(new Settings(settings.schedule(), settings.numSteps(), settings.spacing(), settings.stepsOffset(),
        settings.prediction(), alphaToOne));
  }

  /**
   * Runs all N steps from x_T, drawing each step's noise from {@code rng}.
   *
   * @param model the denoiser
   * @param initial x_T, shape [B, ...]
   * @param condition per-row condition passed to the model (may be null)
   * @return x_0
   */
  public INDArray sample(Model model, INDArray initial, INDArray condition, Rng rng) {
    return sample(model, initial, condition, rng, null);
  }

  /** Observes a sampling run: called after each step with x_t, the model output at x_t, and x_s. */
  @FunctionalInterface
  public interface Recorder {
    void onStep(int step, INDArray sample, INDArray output, INDArray next);
  }

  /** As {@link #sample(Model, INDArray, INDArray, Rng)}, reporting every step to {@code recorder} (may be null). */
  public INDArray sample(Model model, INDArray initial, INDArray condition, Rng rng, Recorder recorder) {
    INDArray x = initial;
    int batch = Math.toIntExact(initial.size(0));
    for (int i = 0; i < steps.length; i++) {
      int[] t = new int[batch];
      Arrays.fill(t, steps[i].timestep());
      INDArray out = model.predict(x, t, condition);
      INDArray next = steps[i].step(x, out, rng.gaussian(x.shape()));
      if (recorder != null) {
        recorder.onStep(i, x, out, next);
      }
      x = next;
      io.github.nablagfn.core.runtime.NablaRuntime.relieveMemory();
    }
    return x;
  }

  /**
   * The reference defaults: leading spacing with offset 1, ε-prediction, final ᾱ = ᾱ_0. For N = T
   * (every timestep) leading spacing with offset 1 would reach t = T; pass settings with TRAILING
   * spacing or offset 0 to the sampler's {@code create} instead.
   */
  public static Settings defaults(NoiseSchedule schedule, int numSteps) {
    return new Settings(schedule, numSteps, TimestepSpacing.LEADING, 1, PredictionType.EPSILON, false);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + settings + "]";
  }
}
