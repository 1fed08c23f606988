package io.github.nablagfn.core.graph;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.nd4j.autodiff.listeners.At;
import org.nd4j.autodiff.listeners.BaseListener;
import org.nd4j.autodiff.listeners.Operation;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.internal.SameDiffOp;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.dataset.api.MultiDataSet;

/**
 * Where graph executions spend their time, by op: while {@link #start()}ed, every execution that goes
 * through {@link GraphRuns} (all of the library's) times each op from just before it executes to just
 * after, on the executing thread. {@link #stop()} returns the totals; the time of the executions minus
 * the ops' time is SameDiff's own work between ops (dependency tracking, output shapes and allocation,
 * op contexts). For benchmarks: it adds a listener call per op.
 */
public final class OpProfile {
  private static volatile Recorder active;

  private OpProfile() {}

  /** Starts recording (replacing a recording in progress). */
  public static void start() {
    active = new Recorder();
  }

  /** Stops recording and returns what was recorded (empty if nothing was started). */
  public static Report stop() {
    Recorder r = active;
    active = null;
    return r == null ? new Report(Map.of(), 0) : r.report();
  }

  static Recorder active() {
    return active;
  }

  /** One op type's totals. */
  public record OpTime(String op, long calls, long nanos) {}

  /** Totals per op type, and the wall time of the graph executions they ran in. */
  public record Report(Map<String, OpTime> ops, long executionNanos) {
    public long opNanos() {
      return ops.values().stream().mapToLong(OpTime::nanos).sum();
    }

    /** Op types, largest total first. */
    public List<OpTime> byTime() {
      List<OpTime> l = new ArrayList<>(ops.values());
      l.sort((a, b) -> Long.compare(b.nanos(), a.nanos()));
      return l;
    }

    /**
     * Totals per group of op types: {@code groups} maps a group name to name prefixes (checked in
     * order; the first group with a matching prefix wins; unmatched ops go to "other").
     */
    public Map<String, Long> grouped(Map<String, List<String>> groups) {
      Map<String, Long> out = new LinkedHashMap<>();
      groups.keySet().forEach(g -> out.put(g, 0L));
      out.put("other", 0L);
      for (OpTime t : ops.values()) {
        String group = "other";
        search:
        for (Map.Entry<String, List<String>> g : groups.entrySet()) {
          for (String prefix : g.getValue()) {
            if (t.op().startsWith(prefix)) {
              group = g.getKey();
              break search;
            }
          }
        }
        out.merge(group, t.nanos(), Long::sum);
      }
      return out;
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
          "executions %.1f ms, ops %.1f ms%n", executionNanos / 1e6, opNanos() / 1e6));
      for (OpTime t : byTime()) {
        sb.append(String.format(Locale.ROOT, "  %-28s %8d calls %10.1f ms%n", t.op(), t.calls(), t.nanos() / 1e6));
      }
      return sb.toString();
    }
  }

  /** The listener: op start times per thread, totals per op type. */
  static final class Recorder extends BaseListener {
    private final Map<String, long[]> totals = new TreeMap<>();
    private final ThreadLocal<Long> started = new ThreadLocal<>();
    private long executionNanos;

    @Override
    public boolean isActive(Operation operation) {
      return true;
    }

    @Override
    public void preOpExecution(SameDiff sd, At at, SameDiffOp op, OpContext opContext) {
      started.set(System.nanoTime());
    }

    @Override
    public void opExecution(SameDiff sd, At at, MultiDataSet batch, SameDiffOp op, OpContext opContext,
        INDArray[] outputs) {
      Long t0 = started.get();
      if (t0 == null) {
        return;
      }
      long dt = System.nanoTime() - t0;
      String name = op.getOp().opName();
      synchronized (totals) {
        long[] v = totals.computeIfAbsent(name, k -> new long[2]);
        v[0]++;
        v[1] += dt;
      }
    }

    /** One op executed outside SameDiff's session (by a {@link GraphPlan}). */
    void op(String name, long nanos) {
      synchronized (totals) {
        long[] v = totals.computeIfAbsent(name, k -> new long[2]);
        v[0]++;
        v[1] += nanos;
      }
    }

    void execution(long nanos) {
      synchronized (totals) {
        executionNanos += nanos;
      }
    }

    Report report() {
      Map<String, OpTime> m = new TreeMap<>();
      synchronized (totals) {
        totals.forEach((k, v) -> m.put(k, new OpTime(k, v[0], v[1])));
        return new Report(m, executionNanos);
      }
    }
  }
}
