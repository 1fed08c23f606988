package io.github.nablagfn.spark;

import io.github.nablagfn.core.train.Execution;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.RowResult;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The executor side: a pool of trainers per execution (one per concurrent task; trainers are not
 * thread-safe), built from the factory on first use, checked against the driver's configuration, and
 * loaded with the broadcast state before each share.
 */
final class Workers {
  /** Trainers of the few most recent executions (older ones are dropped: they hold native memory). */
  private static final int EXECUTIONS_KEPT = 4;
  private static final Map<String, ConcurrentLinkedQueue<NablaTrainer>> POOLS = java.util.Collections.synchronizedMap(
      new java.util.LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ConcurrentLinkedQueue<NablaTrainer>> eldest) {
          return size() > EXECUTIONS_KEPT;
        }
      });
  /** Test hook: the next {@code n} shares throw before computing anything. */
  static final AtomicInteger FAILURES_TO_INJECT = new AtomicInteger();

  private Workers() {}

  static RowResult compute(SparkExecution.Payload p, int[] range) {
    if (FAILURES_TO_INJECT.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IllegalStateException("injected task failure (test hook) for rows [" + range[0] + ", " + range[1] + ")");
    }
    ConcurrentLinkedQueue<NablaTrainer> pool = POOLS.computeIfAbsent(p.executionId(), k -> new ConcurrentLinkedQueue<>());
    NablaTrainer trainer = pool.poll();
    if (trainer == null) {
      trainer = build(p);
    }
    trainer.loadWorkerState(p.state());
    RowResult r = trainer.computeRows(p.task(), range[0], range[1]);
    pool.add(trainer); // only after success: a trainer that threw is dropped
    return r;
  }

  private static NablaTrainer build(SparkExecution.Payload p) {
    NablaTrainer trainer = p.factory().builder().execution(Execution.local()).checkpointDir(null).build();
    String difference = difference(p.configuration(), trainer.workerConfiguration());
    if (difference != null) {
      throw new IllegalStateException("the executor's trainer differs from the driver's: " + difference
          + " (the TrainerFactory must build the same configuration everywhere)");
    }
    return trainer;
  }

  /** The first setting that differs, named with both values, or null. */
  static String difference(Map<String, String> driver, Map<String, String> executor) {
    for (Map.Entry<String, String> e : driver.entrySet()) {
      String theirs = executor.get(e.getKey());
      if (!Objects.equals(e.getValue(), theirs)) {
        return e.getKey() + " is '" + theirs + "' on the executor but '" + e.getValue() + "' on the driver";
      }
    }
    for (String k : executor.keySet()) {
      if (!driver.containsKey(k)) {
        return k + " is set on the executor ('" + executor.get(k) + "') but not on the driver";
      }
    }
    return null;
  }
}
