/**
 * Optional data-parallel fine-tuning on Apache Spark: {@link io.github.nablagfn.spark.SparkExecution} runs
 * the rows of each iteration's batch as Spark tasks and sums their gradients with {@code treeAggregate};
 * the driver's {@link io.github.nablagfn.core.train.NablaTrainer} applies one update per iteration and
 * writes the checkpoints. See docs/distributed.md.
 */
package io.github.nablagfn.spark;
