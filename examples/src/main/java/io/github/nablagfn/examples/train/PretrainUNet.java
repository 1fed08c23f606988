package io.github.nablagfn.examples.train;

import io.github.nablagfn.examples.AppRuntime;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.DataSource;
import io.github.nablagfn.core.train.Pretrainer;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.diffusion.guidance.GuidedDenoiser;
import io.github.nablagfn.diffusion.image.ImageGrid;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pretrains the "small" class-conditional U-Net on a digit set (ε-MSE, AdamW, EMA, 10 % null labels for
 * classifier-free guidance) and can be resumed: run it again with a larger iteration target and it
 * continues from {@code outDir/pretrain-checkpoint.safetensors}. After every checkpoint it writes
 * {@code outDir/unet-small.safetensors} (the EMA weights), {@code outDir/provenance.json} (config, seed,
 * data, iterations, recent loss, accumulated wall time over all sittings) and, at the end,
 * {@code outDir/samples.png} (one row per class, DDIM 50 steps, guidance scale 2).
 *
 * <p>Arguments: {@code dataDir outDir iterations [batch=64] [seed=0] [checkpointEvery=250]
 * [datasetName=MNIST]}. The directory holds {@code train-images-idx3-ubyte} and
 * {@code train-labels-idx1-ubyte} (raw or {@code .gz}).
 */
public final class PretrainUNet {
  private static final Logger LOG = LoggerFactory.getLogger(PretrainUNet.class);
  static final double LR = 5e-4;
  static final int WARMUP = 200;
  static final double EMA = 0.999;
  static final double LABEL_DROPOUT = 0.1;

  private PretrainUNet() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 3) {
      System.err.println("usage: PretrainUNet dataDir outDir iterations [batch] [seed] [checkpointEvery] [datasetName]");
      System.exit(2);
    }
    AppRuntime.init();
    Path dataDir = Path.of(args[0]);
    Path outDir = Path.of(args[1]);
    long target = Long.parseLong(args[2]);
    int batch = args.length > 3 ? Integer.parseInt(args[3]) : 64;
    long seed = args.length > 4 ? Long.parseLong(args[4]) : 0;
    int every = args.length > 5 ? Integer.parseInt(args[5]) : 250;
    String dataset = args.length > 6 ? args[6] : "MNIST";
    Files.createDirectories(outDir);

    INDArray images = Idx.toModelInput(Idx.read(TrainClassifier.idxFile(dataDir, "train-images-idx3-ubyte"), 3), 2);
    INDArray labels = Idx.toLabels(Idx.read(TrainClassifier.idxFile(dataDir, "train-labels-idx1-ubyte"), 1));
    int n = Math.toIntExact(images.size(0));
    INDArray flat = images.reshape(n, 32 * 32);
    DataSource data = (rng, size) -> {
      int[] idx = new int[size];
      for (int i = 0; i < size; i++) {
        idx[i] = rng.nextInt(n);
      }
      return new DataSource.Batch(Nd4j.pullRows(flat, 1, idx).reshape(size, 1, 32, 32),
          Nd4j.pullRows(labels.reshape(n, 1), 1, idx).reshape(size));
    };

    UNet unet = UNet.create(UNetConfig.small(), Rng.of(seed));
    NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
    Pretrainer trainer = new Pretrainer(unet, schedule, AdamW.lr(LR).clipNorm(1.0), batch, seed)
        .labelDropout(LABEL_DROPOUT).ema(EMA).learningRate(LearningRate.warmup(LR, WARMUP));
    Path checkpoint = outDir.resolve("pretrain-checkpoint.safetensors");
    Path provenanceFile = outDir.resolve("provenance.json");
    ObjectMapper json = new ObjectMapper();
    double previousSeconds = 0;
    if (Files.exists(checkpoint)) {
      trainer.load(checkpoint);
      if (Files.exists(provenanceFile)) {
        previousSeconds = json.readTree(provenanceFile.toFile()).path("wallSeconds").asDouble(0);
      }
      LOG.info("resumed from {} at iteration {}", checkpoint, trainer.iteration());
    }
    long start = System.nanoTime();
    double recent = Double.NaN;
    double sum = 0;
    int count = 0;
    while (trainer.iteration() < target) {
      sum += trainer.step(data);
      count++;
      long it = trainer.iteration();
      if (it % 50 == 0 || it == target) {
        recent = sum / count;
        double elapsed = (System.nanoTime() - start) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "{\"iteration\": %d, \"loss\": %.5f, \"seconds\": %.1f}%n", it, recent, elapsed);
        sum = 0;
        count = 0;
      }
      if (it % every == 0 || it == target) {
        double wall = previousSeconds + (System.nanoTime() - start) / 1e9;
        trainer.save(checkpoint);
        Safetensors.write(outDir.resolve("unet-small.safetensors"), trainer.emaParameters().asMap(),
            Map.of("format", "nabla-unet-small-v1", "iterations", Long.toString(it), "dataset", dataset));
        writeProvenance(json, provenanceFile, dataset, seed, batch, it, recent, wall);
      }
    }
    UNet sampler = UNet.create(UNetConfig.small(), Rng.of(seed));
    sampler.parameters().load(trainer.emaParameters().asMap(), false);
    writeSamples(sampler, outDir.resolve("samples.png"), seed);
    LOG.info("wrote {}", outDir.toAbsolutePath());
  }

  static void writeProvenance(ObjectMapper json, Path file, String dataset, long seed, int batch, long iterations,
      double loss, double wallSeconds) throws java.io.IOException {
    ObjectNode p = json.createObjectNode();
    p.put("model", "UNetConfig.small() (the twin's U-Net), class-conditional, 10 classes + null label");
    p.put("dataset", dataset + " training split (60000 images, padded 28->32, scaled to [-1, 1])");
    p.put("objective", "epsilon-MSE, DDPM linear schedule (1e-4..0.02, 1000 steps), uniform timesteps");
    p.put("optimizer", "AdamW lr " + LR + " (linear warm-up " + WARMUP + " iterations, then constant), clip 1.0");
    p.put("ema", EMA);
    p.put("labelDropout", LABEL_DROPOUT);
    p.put("batch", batch);
    p.put("seed", seed);
    p.put("iterations", iterations);
    p.put("recentLoss", loss);
    p.put("wallSeconds", wallSeconds);
    p.put("threads", NablaRuntime.threads());
    AtomicFiles.write(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(p)
        .getBytes(StandardCharsets.UTF_8));
  }

  /** Eight samples per class, one row per class, DDIM (η = 0) with 50 steps and guidance scale 2. */
  public static void writeSamples(Denoiser model, Path png, long seed) throws java.io.IOException {
    int perClass = 8;
    long[] c = new long[10 * perClass];
    for (int i = 0; i < c.length; i++) {
      c[i] = i / perClass;
    }
    Ddim ddim = Ddim.of(NoiseSchedule.ddpmDefault(), 50);
    Rng rng = Rng.of(seed).fork("samples", 0);
    INDArray x = ddim.sample(new DenoiserGraph(new GuidedDenoiser(model, 2.0)),
        rng.gaussian(c.length, 1, 32, 32), Nd4j.createFromArray(c), rng.fork("steps", 0));
    ImageGrid.write(png, x, perClass);
  }
}
