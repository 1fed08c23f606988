package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;

/** How the frozen reference policy (the pretrained model, p_ref) is obtained from the policy. */
@FunctionalInterface
public interface Reference {
  /** The reference for {@code policy}, taken when the trainer is built (before any update). */
  Denoiser resolve(Denoiser policy);

  /** A frozen deep copy of the initial policy. */
  static Reference frozenCopy() {
    return Denoiser::copy;
  }

  /** An explicitly given reference network (must have the policy's architecture). */
  static Reference of(Denoiser reference) {
    return policy -> reference;
  }
}
