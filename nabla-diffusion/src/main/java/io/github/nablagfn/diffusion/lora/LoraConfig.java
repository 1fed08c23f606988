package io.github.nablagfn.diffusion.lora;

import java.util.List;

/**
 * LoRA settings: rank r, scaling α (the update is (α/r)·B·A), the adapted weights by parameter name,
 * and the initialisation of A (B always starts at zero, so the adapted network starts equal to the base).
 */
public record LoraConfig(int rank, double alpha, List<String> targets, Init init) {
  /** How A is initialised. */
  public enum Init {
    /** U(−1/√fan_in, 1/√fan_in), as PEFT's default. */
    KAIMING_UNIFORM,
    /** N(0, 1/r²). */
    GAUSSIAN
  }

  public LoraConfig {
    if (rank < 1) {
      throw new IllegalArgumentException("LoraConfig.rank = " + rank + "; expected >= 1");
    }
    if (!(alpha > 0) || Double.isInfinite(alpha)) {
      throw new IllegalArgumentException("LoraConfig.alpha = " + alpha + "; expected a finite value > 0");
    }
    if (targets == null || targets.isEmpty()) {
      throw new IllegalArgumentException("LoraConfig.targets is empty; expected the names of the weights to adapt");
    }
    targets = List.copyOf(targets);
    if (init == null) {
      throw new IllegalArgumentException("LoraConfig.init = null; expected KAIMING_UNIFORM or GAUSSIAN");
    }
  }

  /** The paper's default for the U-Net: r = 8, α = 8, on the attention projections (fused q/k/v and out). */
  public static LoraConfig attention(int rank) {
    return new LoraConfig(rank, rank, List.of("attn.qkv.weight", "attn.proj.weight"), Init.KAIMING_UNIFORM);
  }

  /** The update scale α/r. */
  public double scale() {
    return alpha / rank;
  }
}
