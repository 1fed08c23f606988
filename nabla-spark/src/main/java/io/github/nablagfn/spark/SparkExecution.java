package io.github.nablagfn.spark;

import io.github.nablagfn.core.train.Execution;
import io.github.nablagfn.core.train.HostTensors;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.RowResult;
import io.github.nablagfn.core.train.RowTask;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * Runs an iteration's rows as Spark tasks: the batch of B trajectories is split into P contiguous
 * shares (P = min(partitions, B)); the driver's parameters, the reward's state and the task are
 * broadcast once per call as plain float arrays ({@link HostTensors}); each task computes its share on
 * an executor-local trainer built from the {@link TrainerFactory} (and verified against the driver's
 * configuration), with the random numbers the single-process run gives those rows; the shares are summed
 * with {@code treeAggregate}. The driver's trainer then applies one update. A failed task is retried by
 * Spark (set {@code spark.task.maxFailures}; in local mode use a master such as {@code local[2,4]}); a
 * job that fails for good throws before any update, so an iteration applies one complete update or none.
 */
public final class SparkExecution implements Execution {
  private final JavaSparkContext spark;
  private final TrainerFactory factory;
  private final int partitions;
  private final String id = UUID.randomUUID().toString();
  private Map<String, String> driverConfiguration;

  private SparkExecution(JavaSparkContext spark, TrainerFactory factory, int partitions) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.factory = Objects.requireNonNull(factory, "factory");
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions = " + partitions + "; expected >= 1");
    }
    this.partitions = partitions;
  }

  /**
   * @param spark the Spark context (its master decides where tasks run)
   * @param factory builds the same trainer configuration on every executor
   * @param partitions how many shares each iteration's batch is split into (at most the batch size is used)
   */
  public static SparkExecution of(JavaSparkContext spark, TrainerFactory factory, int partitions) {
    return new SparkExecution(spark, factory, partitions);
  }

  public int partitions() {
    return partitions;
  }

  /** Contiguous row ranges [from, to) covering a batch of {@code batch} rows in {@code shares} near-equal parts. */
  static List<int[]> split(int batch, int shares) {
    List<int[]> out = new ArrayList<>();
    for (int p = 0; p < shares; p++) {
      int from = (int) ((long) p * batch / shares);
      int to = (int) ((long) (p + 1) * batch / shares);
      if (to > from) {
        out.add(new int[] {from, to});
      }
    }
    return out;
  }

  @Override
  public RowResult run(NablaTrainer trainer, RowTask task) {
    if (driverConfiguration == null) {
      driverConfiguration = trainer.workerConfiguration();
    }
    List<int[]> ranges = split(trainer.batchSize(), Math.min(partitions, trainer.batchSize()));
    Broadcast<Payload> payload = spark.broadcast(new Payload(id, factory, driverConfiguration, trainer.workerState(),
        task));
    try {
      int depth = ranges.size() > 4 ? 3 : 2;
      return spark.parallelize(ranges, ranges.size())
          .treeAggregate(RowResult.empty(), (acc, range) -> acc.plus(Workers.compute(payload.value(), range)),
              RowResult::plus, depth);
    } finally {
      payload.destroy();
    }
  }

  /** What every task of one call needs: plain data, shipped once per executor by Spark's broadcast. */
  record Payload(String executionId, TrainerFactory factory, Map<String, String> configuration, HostTensors state,
      RowTask task) implements Serializable {}
}
