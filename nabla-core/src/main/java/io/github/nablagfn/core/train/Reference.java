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

  /**
   * The policy's own base network with its adapters disabled (LoRA): no second copy of the weights.
   * The policy must be an {@link io.github.nablagfn.core.model.AdaptedDenoiser}.
   */
  static Reference adaptersDisabled() {
    return policy -> {
      if (!(policy instanceof io.github.nablagfn.core.model.AdaptedDenoiser a)) {
        throw new IllegalArgumentException("Reference.adaptersDisabled() needs a policy with adapters (LoRA); got "
            + policy.getClass().getSimpleName());
      }
      return a.base();
    };
  }

  /** An explicitly given reference network (must have the policy's architecture). */
  static Reference of(Denoiser reference) {
    return policy -> reference;
  }
}
