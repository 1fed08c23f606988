package io.github.nablagfn.spark.example;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.Execution;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.IterationRecord;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Reference;
import io.github.nablagfn.core.train.RowResult;
import io.github.nablagfn.diffusion.lora.LoraConfig;
import io.github.nablagfn.diffusion.lora.LoraDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.analytic.InkReward;
import io.github.nablagfn.spark.SparkExecution;
import io.github.nablagfn.spark.TrainerFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Residual ∇-DB fine-tuning on Spark, timed. Each iteration prints a JSON line: its wall time, the
 * Spark jobs' wall time, the shares' summed and longest compute time, and the driver's own time (the
 * update and what surrounds the jobs). At the end a summary line gives medians and the estimate
 * T(N) ≈ driver + overhead + work/N for N executors, where work is the summed share time and overhead the
 * jobs' wall time minus the longest share.
 *
 * <p>Models: {@code image} (the small ε-U-Net architecture of the shipped digit model, 1×32×32, with
 * LoRA rank 8 on attention, its adapters-disabled base as reference, the twin's flow U-Net, ink reward;
 * random initial weights, since only time is measured) or {@code toy} (the 2-D MLP of the trainer tests).
 * Run: {@code spark-submit --class io.github.nablagfn.spark.example.DistributedFinetune nabla-spark.jar
 * --partitions 8 --iterations 20} (see docs/distributed.md), or locally with {@code --master local[2]}.
 */
@Command(name = "distributed-finetune", mixinStandardHelpOptions = true,
    description = "Residual ∇-DB fine-tuning with each iteration's rows as Spark tasks; prints timings as JSON.")
public final class DistributedFinetune implements Callable<Integer> {
  @Option(names = "--master", description = "Spark master when not set by spark-submit (default local[2])")
  String master;

  @Option(names = "--partitions", description = "Shares per iteration (default ${DEFAULT-VALUE})")
  int partitions = 2;

  @Option(names = "--model", description = "image or toy (default ${DEFAULT-VALUE})")
  String model = "image";

  @Option(names = "--batch", description = "Trajectories per iteration (default ${DEFAULT-VALUE})")
  int batch = 8;

  @Option(names = "--steps", description = "DDIM steps (default ${DEFAULT-VALUE})")
  int steps = 20;

  @Option(names = "--iterations", description = "Iterations (default ${DEFAULT-VALUE})")
  int iterations = 5;

  @Option(names = "--warmup", description = "Iterations left out of the medians (default ${DEFAULT-VALUE})")
  int warmup = 1;

  @Option(names = "--checkpoint-dir", description = "Driver-side checkpoints (resumes from them)")
  Path checkpointDir;

  /** The trainer of every process: built from settings only, so the lambda is serializable. */
  static TrainerFactory factory(String model, int batch, int steps) {
    return () -> {
      processChoices(); // runs in every executor JVM, where main() does not
      Ddim sampler = Ddim.of(NoiseSchedule.ddpmDefault(), steps);
      if (model.equals("toy")) {
        MlpDenoiser policy = MlpDenoiser.create(new MlpDenoiser.Config(2, 64, 3, 32, 0, PredictionType.EPSILON),
            Rng.of(1));
        MlpDenoiser flow = MlpDenoiser.create(
            new MlpDenoiser.Config(2, 32, 2, 32, 0, PredictionType.EPSILON).withZeroOutput(), Rng.of(2));
        return NablaTrainer.builder().policy(policy).flow(FlowModel.of(flow)).sampler(sampler)
            .reward(new LinearReward(new double[] {0.6, 0.8}).scaled(2.0)).objective(Objectives.residualNablaDb())
            .batchSize(batch).seed(0);
      }
      LoraDenoiser policy = LoraDenoiser.wrap(UNet.create(UNetConfig.small(), Rng.of(1)), LoraConfig.attention(8),
          Rng.of(2));
      return NablaTrainer.builder().policy(policy).reference(Reference.adaptersDisabled())
          .flow(FlowModel.of(UNet.create(UNetConfig.flowSmall(), Rng.of(3)))).sampler(sampler)
          .reward(new InkReward().scaled(100)).objective(Objectives.residualNablaDb()).batchSize(batch).seed(0);
    };
  }

  /**
   * This application's process-wide choices (the library leaves them off): SameDiff's prints silenced,
   * native memory relieved above 2048 MiB; {@code -Dnabla.quietSameDiff} / {@code -Dnabla.gcAboveMb}
   * override them.
   */
  static void processChoices() {
    NablaRuntime.initApplication(2048);
  }

  @Override
  public Integer call() {
    processChoices();
    if (!model.equals("image") && !model.equals("toy")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--model = " + model + "; expected image or toy");
    }
    SparkConf conf = new SparkConf().setAppName("nabla distributed-finetune").setIfMissing("spark.ui.enabled", "false");
    if (master != null) {
      conf.setMaster(master);
    } else {
      conf.setIfMissing("spark.master", "local[2]");
    }
    try (JavaSparkContext spark = new JavaSparkContext(conf)) {
      TrainerFactory factory = factory(model, batch, steps);
      SparkExecution execution = SparkExecution.of(spark, factory, partitions);
      double[] jobs = new double[3]; // this iteration: job wall ms, summed share ms, longest share ms
      Execution timed = (trainer, task) -> {
        long start = System.nanoTime();
        RowResult r = execution.run(trainer, task);
        jobs[0] += (System.nanoTime() - start) / 1e6;
        jobs[1] += r.shareMillis()[0];
        jobs[2] += r.shareMillis()[1];
        return r;
      };
      NablaTrainer.Builder b = factory.builder().execution(timed);
      if (checkpointDir != null) {
        b.checkpointDir(checkpointDir);
      }
      NablaTrainer trainer = b.build();
      List<double[]> rows = new ArrayList<>();
      while (trainer.iteration() < iterations) {
        Arrays.fill(jobs, 0);
        IterationRecord rec = trainer.step();
        double driver = rec.wallMillis() - jobs[0];
        System.out.printf(Locale.ROOT, "{\"iteration\": %d, \"master\": \"%s\", \"partitions\": %d, \"wall_ms\": %.1f, "
            + "\"jobs_ms\": %.1f, \"share_sum_ms\": %.1f, \"share_max_ms\": %.1f, \"driver_ms\": %.1f, "
            + "\"reward\": %.4f}%n", rec.iteration(), spark.master(), partitions, rec.wallMillis(), jobs[0], jobs[1],
            jobs[2], driver, rec.rewardMean());
        if (rec.iteration() >= warmup) {
          rows.add(new double[] {rec.wallMillis(), jobs[0], jobs[1], jobs[2], driver});
        }
      }
      if (checkpointDir != null) {
        trainer.saveCheckpoint();
      }
      if (!rows.isEmpty()) {
        double wall = median(rows, 0);
        double work = median(rows, 2);
        double overhead = Math.max(0, median(rows, 1) - median(rows, 3));
        double driver = median(rows, 4);
        System.out.printf(Locale.ROOT, "{\"summary\": true, \"master\": \"%s\", \"model\": \"%s\", \"batch\": %d, "
            + "\"steps\": %d, \"partitions\": %d, \"median_wall_ms\": %.1f, \"median_work_ms\": %.1f, "
            + "\"median_overhead_ms\": %.1f, \"median_driver_ms\": %.1f, \"estimate_ms\": {\"N=1\": %.0f, \"N=2\": %.0f, "
            + "\"N=4\": %.0f, \"N=8\": %.0f}}%n", spark.master(), model, batch, steps, partitions, wall, work, overhead,
            driver, driver + overhead + work, driver + overhead + work / 2, driver + overhead + work / 4,
            driver + overhead + work / 8);
      }
    }
    return 0;
  }

  private static double median(List<double[]> rows, int k) {
    double[] v = rows.stream().mapToDouble(r -> r[k]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new DistributedFinetune()).execute(args));
  }
}
