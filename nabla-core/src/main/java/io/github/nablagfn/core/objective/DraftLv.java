package io.github.nablagfn.core.objective;

/**
 * DRaFT-LV (Clark et al. 2024): K = 1 with lower variance. The sampled x_0 is re-noised n times to the
 * last step's timestep, x_t⁽ʲ⁾ = √ᾱ_t x_0 + √(1−ᾱ_t) εʲ, each copy is denoised by the last step with fresh
 * noise, and the gradient of −mean R over all copies crosses that step.
 *
 * @param copies n ≥ 1 re-noised copies per sample
 */
public record DraftLv(int copies) implements RewardBackprop {
  public DraftLv {
    if (copies < 1) {
      throw new IllegalArgumentException("draftLv.copies = " + copies + "; expected >= 1");
    }
  }

  @Override
  public String name() {
    return "draft-lv";
  }
}
