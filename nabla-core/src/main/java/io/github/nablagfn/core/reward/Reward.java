package io.github.nablagfn.core.reward;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.nn.ParameterSet;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A reward R(x) per sample. A differentiable reward adds its ops to a graph (x in, (B) rewards out),
 * so "x → denoiser → x̂0 → R" is one graph and ∇_x R one backward pass; its parameters, if any, are
 * frozen (the scope it is given is not trainable). A non-differentiable reward (for example JPEG
 * compressibility) implements {@link #evaluate} only and reports {@link #differentiable()} false.
 *
 * <p>β, the reward scale of the target p*(x) ∝ p_ref(x)·exp(β R(x)), is attached with
 * {@link #scaled(double)}: the trainer uses {@code scale() · base()}.
 */
public interface Reward {

  /** A short name for logs and metrics. */
  String name();

  /** Whether {@link #forward} is implemented and differentiable in x. */
  boolean differentiable();

  /** Frozen parameters of a learned reward (empty for analytic rewards). */
  default ParameterSet parameters() {
    return new ParameterSet();
  }

  /**
   * Adds R(x) to the scope's graph.
   *
   * @param x samples (B, shape...), float32
   * @param condition class labels (B) int64, or null
   * @return (B) float32 rewards
   */
  SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition);

  /** R(x) evaluated eagerly, (B); the default builds (once) and runs the graph of {@link #forward}. */
  default INDArray evaluate(INDArray x, INDArray condition) {
    return RewardGraph.of(this, x, condition != null).evaluate(x, condition);
  }

  /**
   * Called by the trainers after every iteration with this reward's values on the iteration's final
   * samples (B), for rewards that keep statistics ({@link NormalizedReward}). Default: nothing.
   */
  default void observe(INDArray values) {}

  /**
   * Mutable statistics to be saved with a checkpoint and restored on resume (names → arrays, restored in
   * place). Default: none.
   */
  default java.util.Map<String, INDArray> state() {
    return java.util.Map.of();
  }

  /** This reward normalised by running statistics: (R − μ)/σ, updated by {@link #observe}. */
  default Reward normalized(double momentum) {
    return new NormalizedReward(base(), momentum);
  }

  /** β, the scale the trainer multiplies R by (1 unless {@link #scaled}). */
  default double scale() {
    return 1.0;
  }

  /** The reward without its scale. */
  default Reward base() {
    return this;
  }

  /** This reward with scale β ≥ 0 (β = 0 gives back the pretrained model). */
  default Reward scaled(double beta) {
    return new ScaledReward(base(), beta);
  }
}
