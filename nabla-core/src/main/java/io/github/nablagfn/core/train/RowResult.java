package io.github.nablagfn.core.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What a share of rows [from, to) of a batch of B contributes to an iteration: the objective's named loss
 * terms and diagnostics and the gradients, already weighted by (to − from)/B so that the shares' sum is the
 * whole batch's mean, and the per-row values kept by row: the rewards, and for a {@link RowTask.Sample} the
 * trajectories. Combine shares with {@link #plus}; the order of combination changes only float rounding.
 */
public final class RowResult implements Serializable {
  private static final long serialVersionUID = 2L;

  /** The rewards of rows [from, to). */
  public record Rows(int from, int to, float[] rewards) implements Serializable {}

  private final LossTerms terms;
  private final LossTerms diagnostics;
  private final double[] shareMillis; // sum and maximum over the shares of their compute time
  private final HostTensors policyGradients;
  private final HostTensors flowGradients;
  private final TreeMap<Integer, Rows> rows;
  private final TreeMap<Integer, RowTask.SampledBatch> samples;

  private RowResult(LossTerms terms, LossTerms diagnostics, double[] shareMillis, HostTensors policyGradients,
      HostTensors flowGradients, TreeMap<Integer, Rows> rows, TreeMap<Integer, RowTask.SampledBatch> samples) {
    this.terms = terms;
    this.diagnostics = diagnostics;
    this.shareMillis = shareMillis;
    this.policyGradients = policyGradients;
    this.flowGradients = flowGradients;
    this.rows = rows;
    this.samples = samples;
  }

  /** Nothing: the neutral element of {@link #plus}. */
  public static RowResult empty() {
    return new RowResult(LossTerms.none(), LossTerms.none(), new double[2], HostTensors.empty(), HostTensors.empty(),
        new TreeMap<>(), new TreeMap<>());
  }

  /**
   * A share's loss: terms, diagnostics and gradients of rows [from, to) of a batch of B as the share's own
   * means; weighted here by (to − from)/B.
   */
  static RowResult loss(int from, int to, int batch, LossTerms terms, LossTerms diagnostics,
      Map<String, INDArray> policyGradients, Map<String, INDArray> flowGradients, float[] rewards, long started) {
    double w = (double) (to - from) / batch;
    TreeMap<Integer, Rows> r = new TreeMap<>();
    r.put(from, new Rows(from, to, rewards));
    double ms = (System.nanoTime() - started) / 1e6;
    return new RowResult(terms.times(w), diagnostics.times(w), new double[] {ms, ms},
        HostTensors.of(policyGradients).times(w), HostTensors.of(flowGradients).times(w), r, new TreeMap<>());
  }

  /** A share of sampled trajectories with their rewards, no loss. */
  static RowResult samples(int from, int to, float[] rewards, RowTask.SampledBatch sampled, long started) {
    TreeMap<Integer, Rows> r = new TreeMap<>();
    r.put(from, new Rows(from, to, rewards));
    TreeMap<Integer, RowTask.SampledBatch> s = new TreeMap<>();
    s.put(from, sampled);
    double ms = (System.nanoTime() - started) / 1e6;
    return new RowResult(LossTerms.none(), LossTerms.none(), new double[] {ms, ms}, HostTensors.empty(),
        HostTensors.empty(), r, s);
  }

  /** The sum of two results over disjoint rows; overlapping rows are refused. */
  public RowResult plus(RowResult o) {
    TreeMap<Integer, Rows> r = new TreeMap<>(rows);
    for (Rows share : o.rows.values()) {
      Map.Entry<Integer, Rows> below = r.floorEntry(share.to() - 1);
      if (below != null && below.getValue().to() > share.from()) {
        throw new IllegalArgumentException("rows [" + share.from() + ", " + share.to() + ") overlap rows ["
            + below.getValue().from() + ", " + below.getValue().to() + ")");
      }
      r.put(share.from(), share);
    }
    TreeMap<Integer, RowTask.SampledBatch> s = new TreeMap<>(samples);
    s.putAll(o.samples);
    double[] ms = {shareMillis[0] + o.shareMillis[0], Math.max(shareMillis[1], o.shareMillis[1])};
    return new RowResult(terms.plus(o.terms), diagnostics.plus(o.diagnostics), ms,
        policyGradients.plus(o.policyGradients), flowGradients.plus(o.flowGradients), r, s);
  }

  /** The objective's loss terms, each the batch mean once all shares are summed. */
  public LossTerms terms() {
    return terms;
  }

  /** The objective's diagnostics (DDPO: {@code ratio_deviation}, {@code clipped_fraction}), batch means. */
  public LossTerms diagnostics() {
    return diagnostics;
  }

  /**
   * Compute time of the shares in milliseconds: {sum, maximum}. With the execution's wall time this splits
   * an iteration into work that scales with workers (the sum) and what does not (driver, communication).
   */
  public double[] shareMillis() {
    return shareMillis.clone();
  }

  public HostTensors policyGradients() {
    return policyGradients;
  }

  public HostTensors flowGradients() {
    return flowGradients;
  }

  /** The shares' rewards by first row. */
  public Map<Integer, Rows> rows() {
    return Collections.unmodifiableMap(rows);
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

  /** The whole batch's sampled trajectories (rows concatenated in order) of a {@link RowTask.Sample} result. */
  RowTask.SampledBatch sampledBatch(int batch) {
    checkCovers(batch);
    if (samples.size() != rows.size()) {
      throw new IllegalStateException("the execution returned " + samples.size() + " shares of trajectories for "
          + rows.size() + " shares of rows; a sampling task returns both for every share");
    }
    List<RowTask.SampledBatch> shares = new ArrayList<>(samples.values());
    if (shares.size() == 1) {
      return shares.get(0);
    }
    Map<String, INDArray> all = new LinkedHashMap<>();
    for (String name : shares.get(0).trajectory().names()) {
      all.put(name, Nd4j.concat(0, shares.stream().map(s -> s.trajectory().get(name)).toArray(INDArray[]::new)));
    }
    long[] conditions = null;
    if (shares.get(0).conditions() != null) {
      conditions = new long[batch];
      for (Map.Entry<Integer, RowTask.SampledBatch> e : samples.entrySet()) {
        long[] c = e.getValue().conditions();
        System.arraycopy(c, 0, conditions, e.getKey(), c.length);
      }
    }
    return new RowTask.SampledBatch(HostTensors.of(all), conditions);
  }
}
