package io.github.nablagfn.core.train;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What one training iteration measured: the objective's named loss terms (means over elements and
 * transitions; {@link LossTerms}) and their sum, the objective's diagnostics (DDPO: {@code ratio_deviation},
 * {@code clipped_fraction}; none for the others), the reward of the sampled x_0 (the reward given to the
 * trainer, mean and standard deviation over the batch), the gradient norms before clipping, whether the
 * update was applied, and the wall time.
 *
 * <p>As JSON (metrics files, checkpoint histories) it is one flat object with snake_case keys:
 * {@code iteration}, {@code loss_<term>} for every term, {@code loss}, every diagnostic by its name,
 * {@code reward_mean}, {@code reward_std}, {@code grad_norm_policy}, {@code grad_norm_flow}, {@code applied},
 * {@code wall_millis} (docs/metrics.md).
 */
public record IterationRecord(long iteration, LossTerms terms, LossTerms diagnostics, double loss,
    double rewardMean, double rewardStd, double gradNormPolicy, double gradNormFlow, boolean applied,
    double wallMillis) {

  private static final String[] LEGACY_TERMS = {"lossForward", "forward_balance", "lossBackward",
      "backward_balance", "lossTerminal", "terminal", "lossRegulariser", "regulariser"};

  public IterationRecord {
    Objects.requireNonNull(terms, "terms");
    Objects.requireNonNull(diagnostics, "diagnostics");
  }

  /** The same record without the wall time (for comparing runs). */
  public IterationRecord withoutTime() {
    return new IterationRecord(iteration, terms, diagnostics, loss, rewardMean, rewardStd, gradNormPolicy,
        gradNormFlow, applied, 0.0);
  }

  /** The loss term {@code name}; see {@link LossTerms#get}. */
  public double term(String name) {
    return terms.get(name);
  }

  /** The flat JSON object (key order as in the class comment). */
  @JsonValue
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("iteration", iteration);
    terms.asMap().forEach((k, v) -> m.put("loss_" + k, v));
    m.put("loss", loss);
    diagnostics.asMap().forEach(m::put);
    m.put("reward_mean", rewardMean);
    m.put("reward_std", rewardStd);
    m.put("grad_norm_policy", gradNormPolicy);
    m.put("grad_norm_flow", gradNormFlow);
    m.put("applied", applied);
    m.put("wall_millis", wallMillis);
    return m;
  }

  /**
   * Reads {@link #toJson()}'s object back. Histories of checkpoints from before the named terms (camelCase
   * keys {@code lossForward} … {@code wallMillis}) are read with the ∇-DB family's term names.
   *
   * @throws IllegalArgumentException naming a missing key or a value that is not a number
   */
  @JsonCreator
  public static IterationRecord fromJson(Map<String, Object> json) {
    if (json.containsKey("lossForward")) {
      Map<String, Double> terms = new LinkedHashMap<>();
      for (int i = 0; i < LEGACY_TERMS.length; i += 2) {
        terms.put(LEGACY_TERMS[i + 1], number(json, LEGACY_TERMS[i]));
      }
      return new IterationRecord((long) number(json, "iteration"), LossTerms.of(terms), LossTerms.none(),
          number(json, "loss"), number(json, "rewardMean"), number(json, "rewardStd"), number(json, "gradNormPolicy"),
          number(json, "gradNormFlow"), Boolean.TRUE.equals(json.get("applied")), number(json, "wallMillis"));
    }
    Map<String, Double> terms = new LinkedHashMap<>();
    Map<String, Double> diagnostics = new LinkedHashMap<>();
    java.util.Set<String> fixed = java.util.Set.of("iteration", "loss", "reward_mean", "reward_std",
        "grad_norm_policy", "grad_norm_flow", "applied", "wall_millis");
    for (String key : json.keySet()) {
      if (fixed.contains(key)) {
        continue;
      }
      if (key.startsWith("loss_")) {
        terms.put(key.substring("loss_".length()), number(json, key));
      } else {
        diagnostics.put(key, number(json, key));
      }
    }
    Object applied = json.get("applied");
    if (!(applied instanceof Boolean)) {
      throw new IllegalArgumentException("iteration record: 'applied' is " + applied + "; expected true or false");
    }
    return new IterationRecord((long) number(json, "iteration"), LossTerms.of(terms), LossTerms.of(diagnostics),
        number(json, "loss"), number(json, "reward_mean"), number(json, "reward_std"), number(json, "grad_norm_policy"),
        number(json, "grad_norm_flow"), (Boolean) applied, number(json, "wall_millis"));
  }

  /** A number, or a non-finite value written as the string "NaN", "Infinity" or "-Infinity". */
  private static double number(Map<String, Object> json, String key) {
    Object v = json.get(key);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if ("NaN".equals(v) || "Infinity".equals(v) || "-Infinity".equals(v)) {
      return Double.parseDouble((String) v);
    }
    throw new IllegalArgumentException("iteration record: '" + key + "' is " + (v == null ? "missing" : "'" + v + "'")
        + "; expected a number");
  }
}
