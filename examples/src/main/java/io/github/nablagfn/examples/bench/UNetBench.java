package io.github.nablagfn.examples.bench;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.DataSource;
import io.github.nablagfn.core.train.Pretrainer;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Times the twin's workloads ({@code twin.py bench}) with identical shapes and settings:
 * <ul>
 *   <li>{@code unet_forward}: B = 8 and 64, no gradients;</li>
 *   <li>{@code unet_train_step}: B = 64, ε-MSE with 10 % null labels, AdamW 1e-4;</li>
 *   <li>{@code sample_50}: B = 8, 50 DDIM (η = 1) steps, labels 0..7;</li>
 *   <li>{@code nabla_step}: B = 8, one full Residual ∇-DB iteration (sampling included) with K = 5 of 50
 *       transitions, the flow U-Net, the classifier reward log p(c | x) with β = 1e3, λ = 1, AdamW
 *       1e-4 / wd 1e-4 for θ and 1e-3 / wd 1e-2 for φ, clipping 1.0.</li>
 * </ul>
 * Prints one JSON line per workload (median and min over the timed runs after warm-up) and the peak RSS.
 * Arguments: {@code [runs] [warmup]}. System properties: {@code bench.only} = a comma-separated list of
 * workloads (as the twin's {@code --only}); {@code bench.gcEvery=N} calls {@code System.gc()} after every
 * N-th timed call; {@code bench.profile=true} times every op of one more call of each
 * workload but {@code sample_50} ({@code bench.profileCalls=N}: N more calls, times per call)
 * ({@link io.github.nablagfn.core.graph.OpProfile}) and prints the time per op group and the top ops;
 * {@code bench.helpers=false} switches ND4J's platform helpers (oneDNN) off, to measure what they bring.
 */
public final class UNetBench {
  private UNetBench() {}

  public static void main(String[] args) {
    AppRuntime.init();
    if (System.getProperty("bench.helpers") != null) {
      org.nd4j.linalg.factory.Nd4j.getEnvironment().allowHelpers(Boolean.getBoolean("bench.helpers"));
    }
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0));
    System.out.printf(java.util.Locale.ROOT, "{\"info\": \"params\", \"unet\": %d, \"threads\": %d, \"backend\": \"%s\"}%n",
        unet.parameters().count(), NablaRuntime.threads(), System.getProperty("nd4j.classifier", "default"));
    DenoiserGraph graph = new DenoiserGraph(unet);
    java.util.Set<String> only = java.util.Set.of(System.getProperty("bench.only",
        "unet_forward,unet_train_step,sample_50,nabla_step").split(","));
    for (int batch : !only.contains("unet_forward") ? new int[0] : new int[] {8, 64}) {
      Rng rng = Rng.of(batch);
      INDArray x = rng.gaussian(batch, 1, 32, 32);
      int[] t = new int[batch];
      long[] c = new long[batch];
      for (int i = 0; i < batch; i++) {
        t[i] = rng.nextInt(1000);
        c[i] = rng.nextInt(11);
      }
      INDArray labels = Nd4j.createFromArray(c);
      report("unet_forward", batch, time(() -> graph.predict(x, t, labels), 2 * runs, warmup));
      if (Boolean.getBoolean("bench.profile")) {
        profile("unet_forward_" + batch, () -> graph.predict(x, t, labels));
      }
    }
    DataSource data = (rng, n) -> {
      long[] c = new long[n];
      for (int i = 0; i < n; i++) {
        c[i] = rng.nextInt(10);
      }
      return new DataSource.Batch(rng.uniform(-1, 1, n, 1, 32, 32), Nd4j.createFromArray(c));
    };
    if (only.contains("unet_train_step")) {
      Pretrainer p = new Pretrainer(unet.copy(), NoiseSchedule.ddpmDefault(), AdamW.lr(1e-4), 64, 0).labelDropout(0.1);
      report("unet_train_step", 64, time(() -> p.step(data), runs, Math.max(2, warmup / 2)));
      if (Boolean.getBoolean("bench.profile")) {
        profile("unet_train_step", () -> p.step(data));
      }
    }
    INDArray labels8 = Nd4j.createFromArray(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L);
    if (only.contains("sample_50")) {
      Ddim ddim = Ddim.of(NoiseSchedule.ddpmDefault(), 50);
      Rng rng = Rng.of(50);
      report("sample_50", 8, time(() -> ddim.sample(graph, rng.gaussian(8, 1, 32, 32), labels8, rng), runs,
          Math.max(1, warmup / 2)));
    }
    if (only.contains("nabla_step")) {
      NablaTrainer trainer = NablaTrainer.builder().policy(unet.copy())
          .flow(FlowModel.of(UNet.create(UNetConfig.flowSmall(), Rng.of(1))))
          .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 50))
          .reward(new ClassifierReward(Classifier.create(1, 10, Rng.of(2))).scaled(1e3))
          .objective(Objectives.residualNablaDb().regScale(1.0))
          .policyOptimizer(AdamW.lr(1e-4).betas(0.9, 0.999).weightDecay(1e-4).clipNorm(1.0))
          .flowOptimizer(AdamW.lr(1e-3).betas(0.9, 0.999).weightDecay(1e-2).clipNorm(1.0))
          .conditions((rng, b) -> labels8).batchSize(8).seed(3).build();
      report("nabla_step", 8, time(trainer::step, runs, Math.max(1, warmup / 2)));
      if (Boolean.getBoolean("bench.profile")) {
        profile("nabla_step", trainer::step);
      }
    }
    long rss = peakRssMb();
    System.out.printf(java.util.Locale.ROOT, "{\"info\": \"peak_rss_mb\", \"value\": %d}%n", rss);
  }

  /** Op groups of the profile: name prefixes of ND4J op types. */
  private static final Map<String, List<String>> GROUPS = groups();

  private static Map<String, List<String>> groups() {
    Map<String, List<String>> g = new java.util.LinkedHashMap<>();
    g.put("conv2d (+bp)", List.of("conv2d"));
    g.put("matmul (+bp)", List.of("matmul", "mmul", "tensormmul"));
    g.put("softmax (+bp)", List.of("softmax"));
    g.put("reductions (+bp)", List.of("reduce_", "mean", "sum", "norm", "variance", "standard_deviation",
        "moments"));
    g.put("elementwise multiply/divide (+bp)", List.of("multiply", "divide", "realdiv", "mul"));
    g.put("elementwise add/subtract (+bp)", List.of("add", "subtract", "sub", "rsub"));
    g.put("activations (+bp)", List.of("silu", "swish", "sigmoid", "tanh", "gelu", "relu", "elu", "exp", "log",
        "sqrt", "rsqrt", "square", "pow"));
    g.put("shape (reshape, permute, concat, slice, ...)", List.of("reshape", "permute", "transpose", "concat",
        "strided_slice", "slice", "stack", "unstack", "expand_dims", "squeeze", "tile", "gather", "identity",
        "shape_of", "cast", "create_view", "upsampling", "split", "onehot", "zeros_as", "ones_as"));
    return g;
  }

  /** One more call of a workload with every op timed; prints op groups and the top ops. */
  private static void profile(String workload, Runnable call) {
    int calls = Math.max(1, Integer.getInteger("bench.profileCalls", 1));
    io.github.nablagfn.core.graph.OpProfile.start();
    long t0 = System.nanoTime();
    for (int i = 0; i < calls; i++) {
      call.run();
    }
    double wall = (System.nanoTime() - t0) / 1e6 / calls;
    var report = io.github.nablagfn.core.graph.OpProfile.stop();
    double ops = report.opNanos() / 1e6 / calls;
    System.out.printf(java.util.Locale.ROOT, "{\"profile\": \"%s\", \"calls\": %d, \"wall_ms\": %.1f, "
        + "\"graph_executions_ms\": %.1f, \"ops_ms\": %.1f}%n", workload, calls, wall,
        report.executionNanos() / 1e6 / calls, ops);
    report.grouped(GROUPS).forEach((group, nanos) -> System.out.printf(java.util.Locale.ROOT,
        "{\"profile\": \"%s\", \"group\": \"%s\", \"ms\": %.1f, \"share_of_ops\": %.3f}%n",
        workload, group, nanos / 1e6 / calls, nanos / 1e6 / calls / ops));
    report.byTime().stream().limit(15).forEach(t -> System.out.printf(java.util.Locale.ROOT,
        "{\"profile\": \"%s\", \"op\": \"%s\", \"calls\": %.1f, \"ms\": %.1f}%n", workload, t.op(),
        (double) t.calls() / calls, t.nanos() / 1e6 / calls));
  }

  private static double[] time(Runnable r, int runs, int warmup) {
    int gcEvery = Integer.getInteger("bench.gcEvery", 0);
    for (int i = 0; i < warmup; i++) {
      r.run();
      if (gcEvery > 0) {
        System.gc();
      }
    }
    double[] ms = new double[runs];
    for (int i = 0; i < runs; i++) {
      long t0 = System.nanoTime();
      r.run();
      ms[i] = (System.nanoTime() - t0) / 1e6;
      if (gcEvery > 0 && (i + 1) % gcEvery == 0) {
        System.gc(); // outside the timed region
      }
    }
    Arrays.sort(ms);
    return ms;
  }

  private static void report(String workload, int batch, double[] sorted) {
    double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
        : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
    System.out.printf(java.util.Locale.ROOT, "{\"workload\": \"%s\", \"batch\": %d, \"threads\": %d, \"median_ms\": %.2f, \"min_ms\": %.2f, "
        + "\"runs\": %d}%n", workload, batch, NablaRuntime.threads(), median, sorted[0], sorted.length);
  }

  /** Peak resident set size of this process (VmHWM), in MB; -1 where /proc is unavailable. */
  static long peakRssMb() {
    return (long) procStatusMb("VmHWM");
  }

  /** A size field of /proc/self/status (VmRSS, VmHWM, ...) in MB; -1 where /proc is unavailable. */
  static double procStatusMb(String field) {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
        if (line.startsWith(field + ":")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
