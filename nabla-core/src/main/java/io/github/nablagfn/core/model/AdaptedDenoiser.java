package io.github.nablagfn.core.model;

/**
 * A denoiser made of a frozen base network plus trainable adapters (e.g. LoRA). Its
 * {@link #parameters()} are the adapters only; {@link #base()} is the same network without them,
 * sharing the base weights (no copy), which is what {@code Reference.adaptersDisabled()} uses.
 */
public interface AdaptedDenoiser extends Denoiser {
  /** The base network with the adapters disabled. */
  Denoiser base();
}
