package io.github.nablagfn.core.objective;

/**
 * DDPO (Black et al. 2024), the PPO-clip variant: each step's log-probability log π_θ(x_s | x_t) against
 * the sampling policy's, ratio ρ = π_θ/π_old, per-trajectory advantage A (the reward standardised among
 * the batch's samples of the same condition, or the whole batch when unconditional), and
 * L = mean over (trajectory, step) of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)). Needs only reward values, so it
 * works with non-differentiable rewards (JPEG compressibility).
 *
 * @param clipRange ε > 0 (DDPO's default 1e-4)
 * @param timestepFraction fraction of the N steps per trajectory used per update, in (0, 1] (stratified,
 *     the final step always included)
 * @param innerEpochs optimizer updates per sampled batch, ≥ 1 (the ratio differs from 1 from the second)
 */
public record Ddpo(double clipRange, double timestepFraction, int innerEpochs) implements Objective {
  public Ddpo {
    if (!(clipRange > 0) || Double.isInfinite(clipRange)) {
      throw new IllegalArgumentException("ddpo.clipRange = " + clipRange + "; expected a finite value > 0");
    }
    if (!(timestepFraction > 0 && timestepFraction <= 1)) {
      throw new IllegalArgumentException("ddpo.timestepFraction = " + timestepFraction + "; expected in (0, 1]");
    }
    if (innerEpochs < 1) {
      throw new IllegalArgumentException("ddpo.innerEpochs = " + innerEpochs + "; expected >= 1");
    }
  }

  /** DDPO's defaults: ε = 1e-4, every step, one update per batch. */
  public static Ddpo defaults() {
    return new Ddpo(1e-4, 1.0, 1);
  }

  public Ddpo clipRange(double eps) {
    return new Ddpo(eps, timestepFraction, innerEpochs);
  }

  public Ddpo timestepFraction(double fraction) {
    return new Ddpo(clipRange, fraction, innerEpochs);
  }

  public Ddpo innerEpochs(int epochs) {
    return new Ddpo(clipRange, timestepFraction, epochs);
  }

  /** K, the transitions per trajectory of N steps. */
  public int transitionsPerTrajectory(int numSteps) {
    return Math.max(1, Math.min(numSteps, (int) Math.round(timestepFraction * numSteps)));
  }

  @Override
  public String name() {
    return "ddpo";
  }

  @Override
  public boolean learnsFlow() {
    return false;
  }

  @Override
  public boolean needsRewardGradient() {
    return false;
  }

  @Override
  public boolean needsTransitionDensities() {
    return true;
  }

  @Override
  public <R> R accept(Objective.Visitor<R> visitor) {
    return visitor.ddpo(this);
  }

  @Override
  public java.util.Map<String, String> settings() {
    java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
    m.put("objective", name());
    m.put("clipRange", Double.toString(clipRange));
    m.put("timestepFraction", Double.toString(timestepFraction));
    m.put("innerEpochs", Integer.toString(innerEpochs));
    return m;
  }
}
