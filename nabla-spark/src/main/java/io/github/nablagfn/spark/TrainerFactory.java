package io.github.nablagfn.spark;

import io.github.nablagfn.core.train.NablaTrainer;
import java.io.Serializable;

/**
 * Builds the trainer's configuration: called once on the driver and once per concurrent task slot on
 * every executor, so it must be serializable (capture settings, not models) and deterministic: the same
 * architecture, initial weights (the reference is derived from them), sampler, reward, β, objective,
 * batch size and seed everywhere. Executors verify this against the driver
 * ({@link io.github.nablagfn.core.train.NablaTrainer#workerConfiguration()}) and fail naming the first
 * difference. Driver-only settings (checkpoint directory, listeners) belong in the {@code driverOnly}
 * argument of {@link SparkNablaTrainer#create}, not here.
 */
@FunctionalInterface
public interface TrainerFactory extends Serializable {
  NablaTrainer.Builder builder();
}
