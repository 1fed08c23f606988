package io.github.nablagfn.examples.bench;

import io.github.nablagfn.examples.AppRuntime;
import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.ConditionSampler;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.diffusion.lora.LoraConfig;
import io.github.nablagfn.diffusion.lora.LoraDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * Soak: N iterations of Residual ∇-DB fine-tuning, recording the resident size (VmRSS) and the time of
 * every iteration, as JSON lines, and a PNG of both curves. Arguments: {@code toy|image iterations outDir
 * [steps]} (sampling steps, default 50). Each line also has the Java heap in use ({@code heap_mb}).
 * The toy is the 2-D MLP of the trainer tests (batch 64, 50 steps); the image run is the small U-Net with
 * LoRA rank 8 and the flow U-Net (batch 8, 50 steps, random base weights: memory and time do not depend on
 * them).
 */
public final class Soak {
  private Soak() {}

  public static void main(String[] args) throws Exception {
    AppRuntime.init();
    String kind = args.length > 0 ? args[0] : "toy";
    int iterations = args.length > 1 ? Integer.parseInt(args[1]) : 300;
    Path out = Path.of(args.length > 2 ? args[2] : "target/soak");
    int steps = args.length > 3 ? Integer.parseInt(args[3]) : 50;
    Files.createDirectories(out);
    NablaTrainer trainer = kind.equals("image") ? imageTrainer(steps) : toyTrainer(steps);
    List<Double> rss = new ArrayList<>();
    List<Double> ms = new ArrayList<>();
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < iterations; i++) {
      long t0 = System.nanoTime();
      trainer.step();
      double t = (System.nanoTime() - t0) / 1e6;
      double r = rssMb();
      rss.add(r);
      ms.add(t);
      Runtime rt = Runtime.getRuntime();
      String line = String.format(java.util.Locale.ROOT, "{\"kind\": \"%s\", \"iteration\": %d, \"ms\": %.1f, "
          + "\"rss_mb\": %.0f, \"heap_mb\": %.0f}", kind, i + 1, t, r,
          (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
      lines.append(line).append('\n');
      if ((i + 1) % Math.max(1, iterations / 20) == 0) {
        System.out.println(line);
      }
    }
    Files.writeString(out.resolve("soak-" + kind + ".jsonl"), lines.toString());
    double[] x = new double[iterations];
    for (int i = 0; i < iterations; i++) {
      x[i] = i + 1;
    }
    XYChart chart = new XYChartBuilder().width(720).height(360)
        .title("Soak (" + kind + "): resident size and time per iteration").xAxisTitle("iteration").build();
    chart.getStyler().setMarkerSize(0);
    chart.addSeries("RSS (MB)", x, rss.stream().mapToDouble(Double::doubleValue).toArray());
    chart.addSeries("time per iteration (ms)", x, ms.stream().mapToDouble(Double::doubleValue).toArray());
    BitmapEncoder.saveBitmap(chart, out.resolve("soak-" + kind).toString(), BitmapEncoder.BitmapFormat.PNG);
    int q = Math.max(1, iterations / 4);
    System.out.printf(java.util.Locale.ROOT, "{\"kind\": \"%s\", \"rss_first_quarter_mean\": %.0f, "
        + "\"rss_last_quarter_mean\": %.0f, \"ms_first_quarter_mean\": %.1f, \"ms_last_quarter_mean\": %.1f}%n",
        kind, mean(rss.subList(0, q)), mean(rss.subList(iterations - q, iterations)), mean(ms.subList(0, q)),
        mean(ms.subList(iterations - q, iterations)));
  }

  /** The small-U-Net trainer of the image soak: LoRA rank 8 on attention, flow U-Net, batch 8. */
  static NablaTrainer imageTrainer(int steps) {
    UNet base = UNet.create(UNetConfig.small(), Rng.of(0));
    return NablaTrainer.builder().policy(LoraDenoiser.wrap(base, LoraConfig.attention(8), Rng.of(1)))
        .reference(io.github.nablagfn.core.train.Reference.adaptersDisabled())
        .flow(FlowModel.of(UNet.create(UNetConfig.flowSmall(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), steps))
        .reward(new ClassifierReward(Classifier.create(1, 10, Rng.of(3))).scaled(100))
        .objective(Objectives.residualNablaDb()).conditions(ConditionSampler.uniform(10)).batchSize(8).seed(4)
        .build();
  }

  /** The 2-D MLP trainer of the toy soak: batch 64. */
  static NablaTrainer toyTrainer(int steps) {
    return NablaTrainer.builder().policy(MlpDenoiser.create(MlpDenoiser.Config.of(2), Rng.of(1)))
        .flow(FlowModel.of(MlpDenoiser.create(MlpDenoiser.Config.of(2).withZeroOutput(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), steps))
        .reward(new LinearReward(new double[] {1, 0}).scaled(2))
        .objective(Objectives.residualNablaDb()).batchSize(64).seed(4).build();
  }

  private static double mean(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  static double rssMb() {
    return UNetBench.procStatusMb("VmRSS");
  }
}
