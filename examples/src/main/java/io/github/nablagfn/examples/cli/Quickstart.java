package io.github.nablagfn.examples.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import io.github.nablagfn.core.train.ConditionSampler;
import io.github.nablagfn.core.train.FlowModel;
import io.github.nablagfn.core.train.IterationRecord;
import io.github.nablagfn.core.train.JsonlListener;
import io.github.nablagfn.core.train.NablaTrainer;
import io.github.nablagfn.core.train.Reference;
import io.github.nablagfn.diffusion.image.ImageGrid;
import io.github.nablagfn.diffusion.lora.LoraConfig;
import io.github.nablagfn.diffusion.lora.LoraDenoiser;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import io.github.nablagfn.rewards.metrics.Diversity;
import io.github.nablagfn.rewards.metrics.Frechet;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job: fine-tunes the shipped class-conditional base model (LoRA on the attention projections)
 * with Residual ∇-DB to the shipped classifier's reward log p(c | x), evaluating a fixed set of
 * conditions and noises every few iterations, and writes everything to {@code runs/<name>/}.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
    description = "Fine-tune the shipped digit model to the shipped classifier reward and write runs/<name>/.")
final class Quickstart implements Callable<Integer> {
  static final String BASE_RESOURCE = "/weights/unet-mnist.safetensors";
  static final String CLASSIFIER_RESOURCE = "/weights/classifier-mnist.safetensors";

  @Option(names = "--name", description = "Run name (directory under --runs-dir). Default: ${DEFAULT-VALUE}")
  String name = "quickstart";

  @Option(names = "--runs-dir", description = "Default: ${DEFAULT-VALUE}")
  Path runsDir = Path.of("runs");

  @Option(names = "--iterations", description = "Fine-tuning iterations. Default: ${DEFAULT-VALUE}")
  int iterations = 40;

  @Option(names = "--batch", description = "Trajectories per iteration. Default: ${DEFAULT-VALUE}")
  int batch = 8;

  @Option(names = "--beta", description = "Reward scale β. Default: ${DEFAULT-VALUE}")
  double beta = 100;

  @Option(names = "--lora-rank", description = "LoRA rank on the attention projections. Default: ${DEFAULT-VALUE}")
  int loraRank = 8;

  @Option(names = "--steps", description = "Sampling steps (DDIM, eta = 1). Default: ${DEFAULT-VALUE}")
  int steps = 50;

  @Option(names = "--eval-every", description = "Evaluate every N iterations. Default: ${DEFAULT-VALUE}")
  int evalEvery = 10;

  @Option(names = "--eval-per-class", description = "Evaluation samples per class. Default: ${DEFAULT-VALUE}")
  int evalPerClass = 4;

  @Option(names = "--seed", description = "Default: ${DEFAULT-VALUE}")
  long seed = 0;

  @Option(names = "--base", description = "Base model weights (default: the shipped MNIST model)")
  Path base;

  @Override
  public Integer call() throws Exception {
    validate();
    NablaRuntime.init();
    Path run = runsDir.resolve(name);
    Files.createDirectories(run);
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0)).load(base != null ? base : resource(BASE_RESOURCE, run));
    Classifier classifier = Classifier.create(1, 10, Rng.of(0)).load(resource(CLASSIFIER_RESOURCE, run));
    LoraDenoiser policy = LoraDenoiser.wrap(unet, LoraConfig.attention(loraRank), Rng.of(seed).fork("lora", 0));
    Sampler sampler = Ddim.of(NoiseSchedule.ddpmDefault(), steps);
    writeConfig(run.resolve("config.json"));

    // a fixed evaluation set: evalPerClass samples of every class, fixed noises
    int n = 10 * evalPerClass;
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i / evalPerClass;
    }
    Rng evalRng = Rng.of(seed).fork("evaluation", 0);
    INDArray noise = evalRng.gaussian(n, 1, 32, 32);
    ClassifierProbe probe = new ClassifierProbe(classifier, 40);
    INDArray before = sample(sampler, unet, noise, labels, evalRng);
    ImageGrid.write(run.resolve("before.png"), before, evalPerClass);
    ClassifierProbe.Result baseProbe = probe.probe(before, labels);
    List<double[]> evals = new ArrayList<>(); // iteration, reward, accuracy, diversity, fid
    evals.add(evaluate(0, baseProbe, baseProbe, labels));
    Path evalFile = run.resolve("eval.jsonl");
    Files.deleteIfExists(evalFile);
    appendEval(evalFile, evals.get(0));

    List<IterationRecord> records = new ArrayList<>();
    Progress progress = new Progress("fine-tuning", iterations);
    NablaTrainer trainer = NablaTrainer.builder().policy(policy).reference(Reference.adaptersDisabled())
        .flow(FlowModel.of(UNet.create(UNetConfig.flowSmall(), Rng.of(seed).fork("flow", 0))))
        .sampler(sampler).reward(new ClassifierReward(classifier).scaled(beta))
        .objective(Objectives.residualNablaDb()).conditions(ConditionSampler.uniform(10))
        .batchSize(batch).seed(seed).checkpointDir(run.resolve("checkpoints")).checkpointEvery(evalEvery)
        .listener(new JsonlListener(run.resolve("metrics.jsonl")))
        .listener(r -> {
          records.add(r);
          progress.step(String.format("reward %.3f loss %.4f %.1f s/it", r.rewardMean(), r.loss(),
              r.wallMillis() / 1000));
        }).build();
    try (progress) {
      for (int target = evalEvery; ; target += evalEvery) {
        int upTo = Math.min(target, iterations);
        trainer.fit(upTo);
        INDArray x = sample(sampler, policy, noise, labels, evalRng);
        evals.add(evaluate(upTo, probe.probe(x, labels), baseProbe, labels));
        appendEval(evalFile, evals.get(evals.size() - 1));
        if (upTo == iterations) {
          ImageGrid.write(run.resolve("after.png"), x, evalPerClass);
          break;
        }
      }
    }
    writePlots(run, records, evals);
    double[] first = evals.get(0);
    double[] last = evals.get(evals.size() - 1);
    System.out.printf("reward log p(c|x): %.3f -> %.3f, accuracy %.2f -> %.2f, diversity %.3f -> %.3f, "
        + "FID to base %.2f%n", first[1], last[1], first[2], last[2], first[3], last[3], last[4]);
    System.out.println("results in " + run.toAbsolutePath());
    return 0;
  }

  private void validate() {
    require(iterations >= 1, "--iterations", iterations, ">= 1");
    require(batch >= 1, "--batch", batch, ">= 1");
    require(beta >= 0 && Double.isFinite(beta), "--beta", beta, "a finite value >= 0");
    require(loraRank >= 1, "--lora-rank", loraRank, ">= 1");
    require(steps >= 2 && steps <= 500, "--steps", steps, "in 2..500");
    require(evalEvery >= 1, "--eval-every", evalEvery, ">= 1");
    require(evalPerClass >= 2, "--eval-per-class", evalPerClass, ">= 2 (diversity needs pairs)");
    require(!name.isBlank() && !name.contains("/") && !name.contains(".."), "--name", name,
        "a plain directory name");
  }

  private static void require(boolean ok, String option, Object value, String expected) {
    if (!ok) {
      throw new IllegalArgumentException(option + " = " + value + "; expected " + expected);
    }
  }

  private static INDArray sample(Sampler sampler, Denoiser model, INDArray noise, long[] labels, Rng rng) {
    return sampler.sample(new DenoiserGraph(model), noise, Nd4j.createFromArray(labels), rng.fork("steps", 0));
  }

  /** {iteration, mean log p(c|x), accuracy, diversity (mean within-class cosine distance), FID to base}. */
  private double[] evaluate(long iteration, ClassifierProbe.Result r, ClassifierProbe.Result base, long[] labels) {
    double diversity = 0;
    for (int c = 0; c < 10; c++) {
      diversity += Diversity.meanPairwiseCosineDistance(
          r.features().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(c * evalPerClass, (c + 1) * evalPerClass)));
    }
    return new double[] {iteration, r.meanLogProb(), r.accuracy(labels), diversity / 10,
        Frechet.distance(r.features(), base.features())};
  }

  private static void appendEval(Path file, double[] e) throws IOException {
    String line = String.format(java.util.Locale.ROOT, "{\"iteration\": %d, \"reward\": %.5f, \"accuracy\": %.4f, "
        + "\"diversity\": %.5f, \"fid_to_base\": %.4f}%n", (long) e[0], e[1], e[2], e[3], e[4]);
    Files.writeString(file, line, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE,
        java.nio.file.StandardOpenOption.APPEND);
  }

  private void writePlots(Path run, List<IterationRecord> records, List<double[]> evals) throws IOException {
    if (!records.isEmpty()) {
      double[] it = records.stream().mapToDouble(IterationRecord::iteration).toArray();
      double[] reward = records.stream().mapToDouble(IterationRecord::rewardMean).toArray();
      Plots.line(run.resolve("reward.png"), "Training reward (batch mean)", "iteration", "log p(c|x)", it,
          List.of("reward"), List.of(reward));
    }
    double[] x = evals.stream().mapToDouble(e -> e[0]).toArray();
    String set = " (fixed evaluation set)";
    Plots.line(run.resolve("eval-reward.png"), "Reward" + set, "iteration", "mean log p(c|x)", x,
        List.of("reward"), List.of(column(evals, 1)));
    Plots.line(run.resolve("eval-diversity.png"), "Diversity" + set, "iteration", "within-class cosine distance", x,
        List.of("diversity"), List.of(column(evals, 3)));
    Plots.line(run.resolve("eval-fid.png"), "FID to the base model's samples" + set, "iteration",
        "Fréchet distance (classifier features)", x, List.of("FID to base"), List.of(column(evals, 4)));
  }

  private static double[] column(List<double[]> rows, int k) {
    return rows.stream().mapToDouble(r -> r[k]).toArray();
  }

  private void writeConfig(Path file) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = json.createObjectNode();
    c.put("command", "quickstart");
    c.put("base", base != null ? base.toString() : "shipped: examples/src/main/resources" + BASE_RESOURCE);
    c.put("reward", "classifier log p(c | x), shipped MNIST classifier");
    c.put("objective", "residual-nabla-db (fraction 0.1, gamma = alpha-bar)");
    c.put("iterations", iterations);
    c.put("batch", batch);
    c.put("beta", beta);
    c.put("loraRank", loraRank);
    c.put("steps", steps);
    c.put("evalEvery", evalEvery);
    c.put("evalPerClass", evalPerClass);
    c.put("seed", seed);
    c.put("threads", NablaRuntime.threads());
    AtomicFiles.write(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(c).getBytes(StandardCharsets.UTF_8));
  }

  /** Copies a classpath resource next to the run (the loaders read files); a missing one is a clear error. */
  static Path resource(String name, Path dir) throws IOException {
    try (InputStream in = Quickstart.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IOException("resource " + name + " is not on the classpath (rebuild with bin/nabla, or pass a file)");
      }
      Path tmp = Files.createTempFile(dir, "resource-", ".safetensors");
      Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
      tmp.toFile().deleteOnExit();
      return tmp;
    }
  }
}
