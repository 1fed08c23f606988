package io.github.nablagfn.diffusion.guidance;

import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * Classifier-free guidance: out = out(x, t, ∅) + w·(out(x, t, c) − out(x, t, ∅)), where ∅ is the null
 * label (= numClasses, trained by label dropout). Scale w = 1 is exactly the conditional model (the
 * unconditional branch is not built); the wrapper has the inner model's parameters, so a trainer
 * fine-tuning it trains through the guided output.
 */
public final class GuidedDenoiser implements Denoiser {
  private final Denoiser inner;
  private final double scale;

  public GuidedDenoiser(Denoiser inner, double scale) {
    if (inner.numClasses() < 1) {
      throw new IllegalArgumentException("guidance needs a conditional model; this one has no classes");
    }
    if (!(scale >= 0) || Double.isInfinite(scale)) {
      throw new IllegalArgumentException("guidance scale = " + scale + "; expected a finite value >= 0");
    }
    this.inner = inner;
    this.scale = scale;
  }

  public double scale() {
    return scale;
  }

  /** The null label used for the unconditional branch. */
  public int nullLabel() {
    return inner.numClasses();
  }

  @Override
  public long[] sampleShape() {
    return inner.sampleShape();
  }

  @Override
  public PredictionType predictionType() {
    return inner.predictionType();
  }

  @Override
  public int numClasses() {
    return inner.numClasses();
  }

  @Override
  public ParameterSet parameters() {
    return inner.parameters();
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable timesteps, SDVariable condition) {
    SDVariable cond = inner.forward(scope, x, timesteps, condition);
    if (scale == 1.0) {
      return cond;
    }
    SDVariable nullLabels = condition.mul(0).add(nullLabel());
    SDVariable uncond = inner.forward(scope, x, timesteps, nullLabels);
    return uncond.add(cond.sub(uncond).mul(scale));
  }

  @Override
  public GuidedDenoiser copy() {
    return new GuidedDenoiser(inner.copy(), scale);
  }
}
