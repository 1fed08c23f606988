package io.github.nablagfn.core.train;

import io.github.nablagfn.core.model.Denoiser;
import java.util.Objects;

/**
 * The residual log-flow network g_φ(x_t, t, c) of Residual ∇-DB: any network with the policy's input
 * and output shape, its output layer zero-initialised so that it starts at 0. {@link #none()} drops
 * g_φ and trains only the forward term (the "forward-only" variant).
 */
public final class FlowModel {
  private static final FlowModel NONE = new FlowModel(null);
  private final Denoiser network;

  private FlowModel(Denoiser network) {
    this.network = network;
  }

  /** g_φ given by {@code network} (trained by the flow optimizer). */
  public static FlowModel of(Denoiser network) {
    return new FlowModel(Objects.requireNonNull(network, "flow network"));
  }

  /** No flow network: forward term only. */
  public static FlowModel none() {
    return NONE;
  }

  /** The network, or null for {@link #none()}. */
  public Denoiser network() {
    return network;
  }

  public boolean isNone() {
    return network == null;
  }
}
