package io.github.nablagfn.core.train;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a share of rows [from, to) of a batch of B contributes to an iteration: the loss terms and
 * gradients already weighted by (to − from)/B, so that the shares' sum is the whole batch's mean, and
 * the per-row values (rewards; for {@link RowTask.Kind#SAMPLES} the trajectories) kept by row.
 * Combine shares with {@link #plus}; the order of combination changes only float rounding.
 */
public final class RowResult implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The per-row part of a share. */
  public record Rows(int from, int to, float[] rewards, HostTensors trajectory, long[] conditions)
      implements Serializable {}

  private final double[] terms; // forward, backward, terminal, regulariser; for DDPO: loss, 0, 0, 0
  private final double[] diagnostics; // DDPO: mean |ratio − 1|, clipped fraction
  private final double[] shareMillis; // sum and maximum over the shares of their compute time
  private final HostTensors policyGradients;
  private final HostTensors flowGradients;
  private final TreeMap<Integer, Rows> rows;

  RowResult(double[] terms, double[] diagnostics, HostTensors policyGradients, HostTensors flowGradients,
      TreeMap<Integer, Rows> rows, double millis) {
    this(terms, diagnostics, new double[] {millis, millis}, policyGradients, flowGradients, rows);
  }

  private RowResult(double[] terms, double[] diagnostics, double[] shareMillis, HostTensors policyGradients,
      HostTensors flowGradients, TreeMap<Integer, Rows> rows) {
    this.terms = terms;
    this.diagnostics = diagnostics;
    this.shareMillis = shareMillis;
    this.policyGradients = policyGradients;
    this.flowGradients = flowGradients;
    this.rows = rows;
  }

  /** Nothing: the neutral element of {@link #plus}. */
  public static RowResult empty() {
    return new RowResult(new double[4], new double[2], HostTensors.empty(), HostTensors.empty(), new TreeMap<>(), 0);
  }

  /** The sum of two results over disjoint rows; overlapping rows are refused. */
  public RowResult plus(RowResult o) {
    double[] t = terms.clone();
    double[] d = diagnostics.clone();
    for (int i = 0; i < t.length; i++) {
      t[i] += o.terms[i];
    }
    for (int i = 0; i < d.length; i++) {
      d[i] += o.diagnostics[i];
    }
    TreeMap<Integer, Rows> r = new TreeMap<>(rows);
    for (Rows share : o.rows.values()) {
      Map.Entry<Integer, Rows> below = r.floorEntry(share.to() - 1);
      if (below != null && below.getValue().to() > share.from()) {
        throw new IllegalArgumentException("rows [" + share.from() + ", " + share.to() + ") overlap rows ["
            + below.getValue().from() + ", " + below.getValue().to() + ")");
      }
      r.put(share.from(), share);
    }
    double[] ms = {shareMillis[0] + o.shareMillis[0], Math.max(shareMillis[1], o.shareMillis[1])};
    return new RowResult(t, d, ms, policyGradients.plus(o.policyGradients), flowGradients.plus(o.flowGradients), r);
  }

  /** Loss terms (forward, backward, terminal, regulariser), each the batch mean once all shares are summed. */
  public double[] terms() {
    return terms.clone();
  }

  /**
   * Compute time of the shares in milliseconds: {sum, maximum}. With the execution's wall time this splits
   * an iteration into work that scales with workers (the sum) and what does not (driver, communication).
   */
  public double[] shareMillis() {
    return shareMillis.clone();
  }

  /** DDPO: mean |ρ − 1| and the clipped fraction; zeros otherwise. */
  public double[] diagnostics() {
    return diagnostics.clone();
  }

  public HostTensors policyGradients() {
    return policyGradients;
  }

  public HostTensors flowGradients() {
    return flowGradients;
  }

  /** The shares' per-row parts by first row. */
  public Map<Integer, Rows> rows() {
    return java.util.Collections.unmodifiableMap(rows);
  }

  /** Rows covered, checked to be exactly [0, batch) without gaps. */
  int checkCovers(int batch) {
    int next = 0;
    for (Rows share : rows.values()) {
      if (share.from() != next) {
        throw new IllegalStateException("the execution returned rows from " + share.from() + " where row " + next
            + " was expected (a batch of " + batch + " rows must be covered exactly once)");
      }
      next = share.to();
    }
    if (next != batch) {
      throw new IllegalStateException("the execution returned rows [0, " + next + ") of a batch of " + batch);
    }
    return next;
  }

  /** All rewards in row order. */
  float[] rewards(int batch) {
    checkCovers(batch);
    float[] all = new float[batch];
    for (Rows share : rows.values()) {
      System.arraycopy(share.rewards(), 0, all, share.from(), share.to() - share.from());
    }
    return all;
  }
}
