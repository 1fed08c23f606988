package io.github.nablagfn.core.train;

import java.io.Serializable;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Named values of one objective, in the objective's order: its loss terms (the ∇-DB family's
 * {@code forward_balance}, {@code backward_balance}, {@code terminal}, {@code regulariser}; the
 * reward-backpropagation baselines' {@code reward}; DDPO's {@code surrogate}) or its diagnostics (DDPO's
 * {@code ratio_deviation}, {@code clipped_fraction}). Names are snake_case; metrics files write a term as
 * {@code loss_<name>}. Shares of rows combine with {@link #plus}; the objective's loss is {@link #total()}.
 */
public final class LossTerms implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final LossTerms NONE = new LossTerms(new LinkedHashMap<>());

  private final LinkedHashMap<String, Double> values;

  private LossTerms(LinkedHashMap<String, Double> values) {
    this.values = values;
  }

  /** No terms: the neutral element of {@link #plus}. */
  public static LossTerms none() {
    return NONE;
  }

  /**
   * Terms from alternating names and values, e.g. {@code of("surrogate", 0.3)}.
   *
   * @throws IllegalArgumentException on an odd count, a name that is not snake_case or a repeated name
   */
  public static LossTerms of(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("LossTerms.of takes name, value pairs; got " + namesAndValues.length
          + " arguments");
    }
    LinkedHashMap<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (!(namesAndValues[i] instanceof String name) || !(namesAndValues[i + 1] instanceof Number value)) {
        throw new IllegalArgumentException("LossTerms.of: argument " + i + " must be a name and " + (i + 1)
            + " a number; got " + namesAndValues[i] + ", " + namesAndValues[i + 1]);
      }
      put(m, name, value.doubleValue());
    }
    return new LossTerms(m);
  }

  /** Terms from a map, in its iteration order. */
  public static LossTerms of(Map<String, Double> values) {
    LinkedHashMap<String, Double> m = new LinkedHashMap<>();
    values.forEach((k, v) -> put(m, k, v));
    return new LossTerms(m);
  }

  private static void put(LinkedHashMap<String, Double> m, String name, double value) {
    if (!name.matches("[a-z][a-z0-9_]*")) {
      throw new IllegalArgumentException("term name '" + name + "'; expected snake_case ([a-z][a-z0-9_]*)");
    }
    if (m.put(name, value) != null) {
      throw new IllegalArgumentException("term '" + name + "' given twice");
    }
  }

  /** The names, in order. */
  public List<String> names() {
    return List.copyOf(values.keySet());
  }

  /** The terms by name, in order (unmodifiable). */
  public Map<String, Double> asMap() {
    return Collections.unmodifiableMap(values);
  }

  /**
   * The value of term {@code name}.
   *
   * @throws IllegalArgumentException naming the terms there are when there is no such term
   */
  public double get(String name) {
    Double v = values.get(name);
    if (v == null) {
      throw new IllegalArgumentException("no term '" + name + "'; the terms are " + values.keySet());
    }
    return v;
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** The sum of the terms: the loss they make up. */
  public double total() {
    double s = 0;
    for (double v : values.values()) {
      s += v;
    }
    return s;
  }

  /** Every term times {@code w}. */
  public LossTerms times(double w) {
    LinkedHashMap<String, Double> m = new LinkedHashMap<>();
    values.forEach((k, v) -> m.put(k, v * w));
    return new LossTerms(m);
  }

  /**
   * The termwise sum; a term missing on one side counts as 0 there, so {@link #none()} is neutral. The
   * order is this one's names, then the other's new ones.
   */
  public LossTerms plus(LossTerms o) {
    if (o.values.isEmpty()) {
      return this;
    }
    if (values.isEmpty()) {
      return o;
    }
    LinkedHashMap<String, Double> m = new LinkedHashMap<>(values);
    o.values.forEach((k, v) -> m.merge(k, v, Double::sum));
    return new LossTerms(m);
  }

  /** The first term whose value is NaN or infinite, in order. */
  public Optional<String> firstNonFinite() {
    for (Map.Entry<String, Double> e : values.entrySet()) {
      if (!Double.isFinite(e.getValue())) {
        return Optional.of(e.getKey());
      }
    }
    return Optional.empty();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LossTerms t && t.values.equals(values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
