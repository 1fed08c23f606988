package io.github.nablagfn.core.train;

import io.github.nablagfn.core.optim.AdamW;
import java.util.function.BiFunction;

/**
 * Finds what is not finite in an iteration: the first loss term ({@code loss_<term>}) or gradient norm that is
 * NaN or infinite, and the first sample (row of the batch) whose own share is.
 */
final class NonFiniteGuard {
  static final String POLICY_NORM = "policy gradient norm";
  static final String FLOW_NORM = "flow gradient norm";

  private NonFiniteGuard() {}

  /** The name of the first non-finite value (terms in order, then the policy's and the flow's norms), or null. */
  static String firstNonFinite(LossTerms terms, double normPolicy, double normFlow) {
    var term = terms.firstNonFinite();
    if (term.isPresent()) {
      return "loss_" + term.get();
    }
    if (!Double.isFinite(normPolicy)) {
      return POLICY_NORM;
    }
    return Double.isFinite(normFlow) ? null : FLOW_NORM;
  }

  /** The value {@link #firstNonFinite} named. */
  static double valueOf(String name, LossTerms terms, double normPolicy, double normFlow) {
    if (name.equals(POLICY_NORM)) {
      return normPolicy;
    }
    if (name.equals(FLOW_NORM)) {
      return normFlow;
    }
    return terms.get(name.substring("loss_".length()));
  }

  /**
   * The first row of a batch of {@code batchSize} whose own share of a task (computed by {@code rows}) has a
   * non-finite reward, loss term or gradient, or −1. Bisection (only on the failure path): a range is
   * non-finite when one of its rows is, so the left half is searched first; about one iteration's work in all.
   */
  static int firstNonFiniteSample(int batchSize, BiFunction<Integer, Integer, RowResult> rows) {
    int from = 0;
    int to = batchSize;
    while (to - from > 1) {
      int mid = (from + to) >>> 1;
      if (!isFinite(rows.apply(from, mid))) {
        to = mid;
      } else {
        from = mid; // the left half is finite: the first non-finite row, if any, is on the right
      }
    }
    // no single row may be non-finite on its own (the sum overflowed): check the one found
    return isFinite(rows.apply(from, from + 1)) ? -1 : from;
  }

  private static boolean isFinite(RowResult r) {
    boolean finite = Double.isFinite(AdamW.globalNorm(r.policyGradients().toArrays()))
        && Double.isFinite(AdamW.globalNorm(r.flowGradients().toArrays()))
        && r.terms().firstNonFinite().isEmpty();
    for (RowResult.Rows rows : r.rows().values()) {
      for (float v : rows.rewards()) {
        finite &= Float.isFinite(v);
      }
    }
    return finite;
  }
}
