package io.github.nablagfn.core.objective;

/**
 * AlignProp (Prabhudesai et al. 2023): backpropagate R(x_0) through the whole chain, with gradient
 * checkpointing (each step is recomputed during the backward sweep, so memory is that of one denoiser
 * evaluation). With {@code randomTruncation} the gradient crosses only the last K ~ U{1..N} steps, drawn
 * per iteration, as in the paper's randomised truncated backpropagation.
 */
public record AlignProp(boolean randomTruncation) implements RewardBackprop {
  @Override
  public String name() {
    return "alignprop";
  }
}
