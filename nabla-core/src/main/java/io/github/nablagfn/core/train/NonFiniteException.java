package io.github.nablagfn.core.train;

/** A loss or gradient that is NaN or infinite; the update was not applied and the parameters are untouched. */
public class NonFiniteException extends ArithmeticException {
  private static final long serialVersionUID = 1L;
  private final long iteration;
  private final String term;
  private final int sample;

  public NonFiniteException(long iteration, String term, double value) {
    this(iteration, term, value, -1);
  }

  /**
   * @param sample the first trajectory (row of the batch) whose own contribution is not finite, or −1 when
   *     none is on its own (the sum overflowed)
   */
  public NonFiniteException(long iteration, String term, double value, int sample) {
    super("iteration " + iteration + ": " + term + " is " + value + (sample >= 0 ? " (first non-finite at sample "
        + sample + " of the batch)" : "") + "; update not applied, parameters unchanged");
    this.iteration = iteration;
    this.term = term;
    this.sample = sample;
  }

  /** The first sample (row of the batch) whose contribution is not finite, or −1. */
  public int sample() {
    return sample;
  }

  public long iteration() {
    return iteration;
  }

  public String term() {
    return term;
  }
}
