package io.github.nablagfn.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Locale;

/**
 * Float comparisons whose tolerance is a bound (closed-form or measured), reported as they are made.
 *
 * <p>Each comparison prints one line {@code [measured] <probe> diff=… bound=… used=…} to the test's
 * output, where {@code used} = diff / bound. {@code scripts/test-matrix.sh} collects these lines from
 * every configuration of the matrix (CPU dispatch restricted to AVX2 or SSE4.1, one thread, …) and
 * reports, per probe, the largest difference and the largest share of its bound used: the evidence
 * the tolerances in the tests' comments cite.
 */
public final class Measured {
  private Measured() {}

  /** Asserts |actual − expected| ≤ bound and reports the difference under {@code probe}. */
  public static void assertWithin(String probe, double actual, double expected, double bound) {
    double diff = Math.abs(actual - expected);
    report(probe, diff, bound);
    assertThat(diff).as("%s: |%s - %s| = %g vs bound %g", probe, actual, expected, diff, bound)
        .isLessThanOrEqualTo(bound);
  }

  /** Reports {@code diff} against {@code bound} and asserts diff ≤ bound. */
  public static void assertDiff(String probe, double diff, double bound) {
    report(probe, diff, bound);
    assertThat(diff).as("%s: difference %g vs bound %g", probe, diff, bound).isLessThanOrEqualTo(bound);
  }

  private static void report(String probe, double diff, double bound) {
    System.out.println(String.format(Locale.ROOT, "[measured] %s diff=%.6e bound=%.6e used=%.4f", probe, diff, bound,
        bound > 0 ? diff / bound : Double.POSITIVE_INFINITY));
  }
}
