package io.github.nablagfn.core.train;

/** A loss or gradient that is NaN or infinite; the update was not applied and the parameters are untouched. */
public class NonFiniteException extends ArithmeticException {
  private static final long serialVersionUID = 1L;
  private final long iteration;
  private final String term;

  public NonFiniteException(long iteration, String term, double value) {
    super("iteration " + iteration + ": " + term + " is " + value + "; update not applied, parameters unchanged");
    this.iteration = iteration;
    this.term = term;
  }

  public long iteration() {
    return iteration;
  }

  public String term() {
    return term;
  }
}
