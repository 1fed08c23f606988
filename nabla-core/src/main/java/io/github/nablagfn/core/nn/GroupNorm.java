package io.github.nablagfn.core.nn;

import org.nd4j.autodiff.samediff.SDIndex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Group normalisation (Wu and He 2018) over NCHW (or channels-last NHWC) input: channels split into G
 * groups, each normalised by its own mean and variance over (C/G, H, W), then scaled and shifted per channel:
 * y = (x − μ_g)/√(σ²_g + ε) · γ + β. Parameters {@code name.weight} γ (C) = 1 and {@code name.bias}
 * β (C) = 0.
 *
 * <p>Composed from elementary ops (reshape, mean, centre, mean of squares, rsqrt): ND4J 1.0.0-M2.1's
 * {@code standardize} has no ε and its {@code batchNorm} fails in backprop for this use. When plans run the
 * Java kernels ({@link io.github.nablagfn.core.graph.FastKernels#fusedGraphs()}) the block is one Java op
 * instead ({@link io.github.nablagfn.core.graph.FusedGroupNorm}), with {@link #forwardSilu} fusing the SiLU
 * that follows it in the U-Net.
 */
public record GroupNorm(String name, int groups, int channels, double eps) {

  public static GroupNorm create(ParameterSet params, String name, int groups, int channels, double eps) {
    if (groups < 1 || channels < 1 || channels % groups != 0) {
      throw new IllegalArgumentException("GroupNorm '" + name + "': " + channels + " channels in " + groups
          + " groups; expected groups >= 1 dividing the channel count");
    }
    if (!(eps > 0)) {
      throw new IllegalArgumentException("GroupNorm '" + name + "': eps = " + eps + "; expected > 0");
    }
    params.add(name + ".weight", Init.ones(channels));
    params.add(name + ".bias", Init.zeros(channels));
    return new GroupNorm(name, groups, channels, eps);
  }

  /**
   * x: (B, C, H, W) → same shape. The per-channel scale γ is folded into the group's 1/√(σ² + ε) on the
   * small (B, G, C/G, 1) array, so the full-size tensor sees one multiply and one broadcast add for β
   * instead of normalise-then-scale: three fewer full-size arrays per call, each of which a gradient run
   * keeps until backprop (peak RSS of the U-Net train step at B = 64: 2096 → 1819 MB).
   */
  public SDVariable forward(GraphScope scope, SDVariable x) {
    return forward(scope, x, false);
  }

  /**
   * As {@link #forward(GraphScope, SDVariable)}, or over channels-last input (B, H, W, C) with
   * {@code channelsLast}: the groups are then (B, H·W, G, C/G) and the statistics reduce axes 1 and 3.
   */
  public SDVariable forward(GraphScope scope, SDVariable x, boolean channelsLast) {
    if (io.github.nablagfn.core.graph.FastKernels.fusedGraphs()) {
      return io.github.nablagfn.core.graph.FusedGroupNorm.apply(scope.sd(), x, scope.param(name + ".weight"),
          scope.param(name + ".bias"), groups, eps, channelsLast, false);
    }
    return composed(scope, x, channelsLast);
  }

  /**
   * SiLU(GroupNorm(x)), the U-Net's pre-activation: one Java op for both when plans run the Java kernels
   * ({@link io.github.nablagfn.core.graph.FastKernels#fusedGraphs()}), else the composition followed by
   * {@link Activations#silu}.
   */
  public SDVariable forwardSilu(GraphScope scope, SDVariable x, boolean channelsLast) {
    if (io.github.nablagfn.core.graph.FastKernels.fusedGraphs()) {
      return io.github.nablagfn.core.graph.FusedGroupNorm.apply(scope.sd(), x, scope.param(name + ".weight"),
          scope.param(name + ".bias"), groups, eps, channelsLast, true);
    }
    return Activations.silu(scope.sd(), composed(scope, x, channelsLast));
  }

  /** The composition of ND4J ops (what {@link #forward} emits without the Java kernels). */
  SDVariable composed(GraphScope scope, SDVariable x, boolean channelsLast) {
    SameDiff sd = scope.sd();
    SDVariable shape = x.shape();
    int perGroup = channels / groups;
    // 1. (B, G, C/G, H·W), or (B, H·W, G, C/G) channels-last
    long[] rest = channelsLast ? new long[] {-1L, groups, perGroup} : new long[] {groups, perGroup, -1L};
    SDVariable grouped = x.reshape(sd.concat(0, shape.get(SDIndex.point(0)).reshape(1),
        sd.constant(org.nd4j.linalg.factory.Nd4j.createFromArray(rest))));
    int[] within = channelsLast ? new int[] {1, 3} : new int[] {2, 3};
    // 2. centre by the group mean
    SDVariable centred = grouped.sub(grouped.mean(true, within));
    // 3. γ_c / √(variance_g + ε) per (sample, channel), then one full-size multiply
    SDVariable rstd = sd.math().rsqrt(centred.mul(centred).mean(true, within).add(eps));
    SDVariable gamma = scope.param(name + ".weight");
    SDVariable scale = rstd.mul(channelsLast ? gamma.reshape(1, 1, groups, perGroup)
        : gamma.reshape(1, groups, perGroup, 1));
    SDVariable normed = centred.mul(expand(sd, scale, centred));
    // 4. back to the input's shape, per-channel shift
    SDVariable beta = scope.param(name + ".bias");
    return normed.reshape(shape).add(channelsLast ? beta : beta.reshape(1, channels, 1, 1));
  }

  /**
   * {@code small} broadcast to the shape of {@code like} as 0 + small. Multiplying two arrays of the same
   * shape is much faster in backprop than a broadcasting multiply (whose {@code multiply_bp} took about
   * half of a U-Net training step in ND4J 1.0.0-M2.1); a broadcasting add differentiates quickly.
   */
  static SDVariable expand(SameDiff sd, SDVariable small, SDVariable like) {
    return sd.zerosLike(like).add(small);
  }
}
