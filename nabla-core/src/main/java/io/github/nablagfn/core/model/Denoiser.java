package io.github.nablagfn.core.model;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import io.github.nablagfn.core.sampler.PredictionType;
import org.nd4j.autodiff.samediff.SDVariable;

/**
 * A diffusion model's network: (x_t, t, condition) → output (ε, x0 or v, per
 * {@link #predictionType()}). Implementations add their ops to the graph of a {@link GraphScope}
 * they are given (input variables in, output variable out, parameters named by the scope's prefix),
 * so a denoiser, a sampler step and a reward form one differentiable graph.
 */
public interface Denoiser {

  /** Shape of one sample without the batch dimension, e.g. {2} or {1, 32, 32}. */
  long[] sampleShape();

  /** What the output predicts. */
  PredictionType predictionType();

  /** Number of condition classes (labels 0..n−1), or 0 for an unconditional model. */
  int numClasses();

  /** The trainable parameters (live arrays shared with every graph built from this denoiser). */
  ParameterSet parameters();

  /**
   * Adds the forward pass to the scope's graph.
   *
   * @param x x_t, float32 (B, sampleShape...)
   * @param timesteps t, (B), float32 or float64 (integer-valued training timesteps)
   * @param condition class labels (B) as INT64, or null for an unconditional model
   * @return the output, float32, same shape as x
   */
  SDVariable forward(GraphScope scope, SDVariable x, SDVariable timesteps, SDVariable condition);

  /** The same architecture with an independent deep copy of the parameters (e.g. a frozen reference). */
  Denoiser copy();
}
