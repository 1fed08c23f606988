package io.github.nablagfn.spark;

import io.github.nablagfn.core.train.NablaTrainer;
import java.util.function.UnaryOperator;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Data-parallel fine-tuning on Spark with the ordinary {@link NablaTrainer}: every objective, the same
 * history, checkpoints (written by the driver only, in the single-process format) and resume.
 *
 * <pre>{@code
 * TrainerFactory factory = () -> NablaTrainer.builder().policy(...).flow(...).sampler(...)
 *     .reward(...).batchSize(64).seed(0);                       // serializable, deterministic
 * NablaTrainer trainer = SparkNablaTrainer.create(sc, factory, 8,
 *     b -> b.checkpointDir(Path.of("ckpt")).checkpointEvery(10)); // driver-only settings
 * trainer.fit(500);
 * }</pre>
 */
public final class SparkNablaTrainer {
  private SparkNablaTrainer() {}

  /** The driver's trainer; each iteration's rows run as {@code partitions} Spark tasks. */
  public static NablaTrainer create(JavaSparkContext spark, TrainerFactory factory, int partitions) {
    return create(spark, factory, partitions, UnaryOperator.identity());
  }

  /**
   * As {@link #create(JavaSparkContext, TrainerFactory, int)}, with settings that apply to the driver only
   * (checkpoint directory and frequency, listeners, non-finite policy).
   */
  public static NablaTrainer create(JavaSparkContext spark, TrainerFactory factory, int partitions,
      UnaryOperator<NablaTrainer.Builder> driverOnly) {
    return driverOnly.apply(factory.builder()).execution(SparkExecution.of(spark, factory, partitions)).build();
  }
}
