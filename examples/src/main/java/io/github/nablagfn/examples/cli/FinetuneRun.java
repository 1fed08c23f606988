package io.github.nablagfn.examples.cli;

import io.github.nablagfn.examples.AppRuntime;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.github.nablagfn.core.io.AtomicFiles;
import io.github.nablagfn.core.io.RunLock;
import io.github.nablagfn.core.model.Denoiser;
import io.github.nablagfn.core.model.DenoiserGraph;
import io.github.nablagfn.core.objective.ForwardWeighting;
import io.github.nablagfn.core.objective.Objective;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.optim.AdamW;
import io.github.nablagfn.core.optim.LearningRate;
import io.github.nablagfn.core.reward.Reward;
import io.github.nablagfn.core.runtime.NablaRuntime;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.Ddpm;
import io.github.nablagfn.core.sampler.Sampler;
import io.github.nablagfn.core.sampler.SdeDpmSolverPP;
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
import io.github.nablagfn.diffusion.lora.PeftAdapters;
import io.github.nablagfn.examples.train.ModelSource;
import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.diffusion.unet.UNet;
import io.github.nablagfn.diffusion.unet.UNetConfig;
import io.github.nablagfn.rewards.aesthetic.AestheticHead;
import io.github.nablagfn.rewards.aesthetic.AestheticReward;
import io.github.nablagfn.rewards.analytic.InkReward;
import io.github.nablagfn.rewards.analytic.JpegCompressibilityReward;
import io.github.nablagfn.rewards.analytic.SymmetryReward;
import io.github.nablagfn.rewards.classifier.Classifier;
import io.github.nablagfn.rewards.classifier.ClassifierReward;
import io.github.nablagfn.rewards.metrics.ClassifierProbe;
import io.github.nablagfn.rewards.metrics.Diversity;
import io.github.nablagfn.rewards.metrics.Frechet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One fine-tuning run of the digit model as the CLI runs it: builds the model, reward, objective and
 * sampler from {@link RunSettings}; evaluates a fixed set of conditions and noises (evalPerClass samples
 * per class) before training and every evalEvery iterations (reward, accuracy, within-class diversity,
 * FID to the base model's samples of the same noises); writes {@code config.json}, {@code metrics.jsonl},
 * {@code eval.jsonl} and their CSV copies ({@link MetricsFiles}), {@code before.png}, {@code after.png},
 * PNG plots, checkpoints, and at every checkpoint the model a user takes elsewhere: {@code adapter/} in the
 * PEFT layout with the flow network beside it, or {@code model.safetensors} without LoRA
 * ({@link #exportModel}). A run interrupted part-way resumes from its newest checkpoint.
 */
final class FinetuneRun {
  static final String BASE_RESOURCE = "/weights/unet-mnist.safetensors";
  static final String CLASSIFIER_RESOURCE = "/weights/classifier-mnist.safetensors";
  static final String AESTHETIC_RESOURCE = "/weights/aesthetic-mnist.safetensors";

  private FinetuneRun() {}

  /** What {@link #run} returns when a signal stopped it (the JVM's own status for SIGTERM). */
  static final int STOPPED = 143;

  /**
   * Runs (or resumes) the fine-tuning run {@code s.name}: the run directory is locked for the whole run
   * ({@link RunLock}: a second process on it fails, exit code 2, naming the holder's pid), temporary files
   * of interrupted writes are removed, and SIGTERM / Ctrl-C stop it cleanly ({@link StopOnSignal}).
   */
  static int run(RunSettings s) throws Exception {
    return run(s, () -> { });
  }

  /** What a caller does when a signal stopped the run, before the JVM may exit. */
  @FunctionalInterface
  interface OnStop {
    void stopped() throws IOException;
  }

  /**
   * {@link #run(RunSettings)}, and when a signal stops the run, {@code onStop} runs after the run's files are
   * in a clean state and before the stop hook lets the JVM exit: what a caller writes or prints there is not
   * lost to the exit, which follows as soon as this method releases the hook (a caller's code after the return
   * races it).
   */
  static int run(RunSettings s, OnStop onStop) throws Exception {
    AppRuntime.init();
    Path run = Path.of(s.runsDir).resolve(s.name);
    // closed in reverse order: the lock is released before the stop hook lets a stopping JVM exit
    try (StopOnSignal stop = StopOnSignal.install(); RunLock lock = RunLock.acquire(run)) {
      removeTemporaryFiles(run);
      int code = runLocked(s, run, stop);
      if (stop.requested()) {
        removeTemporaryFiles(run);
        onStop.stopped();
        System.err.flush();
        System.out.flush();
        return STOPPED;
      }
      return code;
    }
  }

  /** Deletes what interrupted atomic writes leave ({@code .*.tmp}) in the run directory and its subdirectories. */
  static void removeTemporaryFiles(Path run) throws IOException {
    try (var files = Files.walk(run, 2)) {
      for (Path p : files.filter(p -> p.getFileName().toString().endsWith(".tmp") && Files.isRegularFile(p)).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static int runLocked(RunSettings s, Path run, StopOnSignal stop) throws Exception {
    BaseModel baseModel = baseModel(s, run);
    UNet unet = UNet.create(UNetConfig.small(), Rng.of(0)).load(baseModel.file());
    UNet frozenBase = s.loraRank == 0 ? unet.copy() : unet; // the "before" model and the reference
    Classifier classifier = Classifier.create(1, 10, Rng.of(0)).load(resource(CLASSIFIER_RESOURCE, run));
    Denoiser policy = s.loraRank > 0 ? LoraDenoiser.wrap(unet, lora(s, unet), Rng.of(s.seed).fork("lora", 0)) : unet;
    Sampler sampler = sampler(s);
    Objective objective = objective(s);
    Reward reward = reward(s, classifier, run);
    writeConfig(run.resolve("config.json"), s);

    int n = 10 * s.evalPerClass;
    long[] labels = new long[n];
    for (int i = 0; i < n; i++) {
      labels[i] = i / s.evalPerClass;
    }
    Rng evalRng = Rng.of(s.seed).fork("evaluation", 0);
    INDArray noise = evalRng.gaussian(n, 1, 32, 32);
    ClassifierProbe probe = new ClassifierProbe(classifier, 40);
    INDArray before = sample(sampler, frozenBase, noise, labels, evalRng);
    ImageGrid.write(run.resolve("before.png"), before, s.evalPerClass);
    ClassifierProbe.Result baseProbe = probe.probe(before, labels);
    Path evalFile = run.resolve("eval.jsonl");
    // a resumed run keeps the evaluations already made (of the models of that time)
    List<EvalRecord> evals = Files.exists(run.resolve("checkpoints")) ? MetricsFiles.readEvals(evalFile) : new ArrayList<>();
    if (evals.isEmpty()) {
      Files.deleteIfExists(evalFile);
      evals.add(evaluate(0, baseProbe, baseProbe, labels, s.evalPerClass, reward, before));
      MetricsFiles.appendEval(evalFile, evals.get(0));
    }
    long evaluated = evals.get(evals.size() - 1).iteration();

    UNet flow = objective(s).learnsFlow() && !s.objective.equals("forward-only")
        ? UNet.create(UNetConfig.flowSmall(), Rng.of(s.seed).fork("flow", 0)) : null;
    if (stop.requested()) {
      return STOPPED; // before training: nothing to save
    }
    List<IterationRecord> records = new ArrayList<>();
    try (JsonlListener metrics = new JsonlListener(run.resolve("metrics.jsonl"));
        Progress progress = new Progress(s.name, s.iterations)) {
      NablaTrainer trainer = NablaTrainer.builder().policy(policy)
          .reference(s.loraRank > 0 ? Reference.adaptersDisabled() : Reference.of(frozenBase))
          .flow(flow != null ? FlowModel.of(flow) : FlowModel.none())
          .sampler(sampler).reward(reward.scaled(s.beta)).objective(objective)
          .policyOptimizer(AdamW.lr(s.lr).betas(0.9, 0.95).weightDecay(1e-4).clipNorm(1.0))
          .policyLearningRate(LearningRate.warmup(s.lr, s.warmup))
          .flowOptimizer(AdamW.lr(s.flowLr).weightDecay(1e-2).clipNorm(1.0))
          .conditions(ConditionSampler.uniform(10)).batchSize(s.batch).seed(s.seed)
          .checkpointDir(run.resolve("checkpoints")).checkpointEvery(s.evalEvery)
          .listener(metrics)
          .listener(r -> {
            records.add(r);
            progress.step(String.format(java.util.Locale.ROOT, "reward %.3f loss %.4g %.1f s/it", r.rewardMean(),
                r.loss(), r.wallMillis() / 1000));
          }).build();
      stop.attach(trainer);
      for (int target = s.evalEvery; ; target += s.evalEvery) {
        int upTo = Math.min(target, s.iterations);
        if (upTo <= evaluated && upTo < s.iterations) {
          continue; // done before an interruption
        }
        trainer.fit(upTo);
        exportModel(run, policy, flow, baseModel);
        if (stop.requested()) {
          System.err.printf(java.util.Locale.ROOT, "nabla: %s stopped at iteration %d, checkpointed%n", s.name,
              trainer.iteration());
          return STOPPED;
        }
        INDArray x = sample(sampler, policy, noise, labels, evalRng);
        if (upTo > evaluated) {
          evals.add(evaluate(upTo, probe.probe(x, labels), baseProbe, labels, s.evalPerClass, reward, x));
          MetricsFiles.appendEval(evalFile, evals.get(evals.size() - 1));
        }
        if (stop.requested()) { // the signal came during the evaluation: it is kept, the rest is done on resume
          return STOPPED;
        }
        if (upTo == s.iterations) {
          ImageGrid.write(run.resolve("after.png"), x, s.evalPerClass);
          break;
        }
      }
    }
    writePlots(run, records, evals);
    MetricsFiles.toCsv(run.resolve("metrics.jsonl"), run.resolve("metrics.csv"));
    MetricsFiles.toCsv(evalFile, run.resolve("eval.csv"));
    Files.writeString(run.resolve("DONE"), String.format(java.util.Locale.ROOT, "%d iterations%n", s.iterations));
    EvalRecord first = evals.get(0);
    EvalRecord last = evals.get(evals.size() - 1);
    System.out.printf(java.util.Locale.ROOT, "%s: reward %.3f -> %.3f, accuracy %.2f -> %.2f, diversity %.3f -> %.3f, FID to base %.2f%n",
        s.reward, first.reward(), last.reward(), first.accuracy(), last.accuracy(), first.diversity(), last.diversity(),
        last.fidToBase());
    System.out.println("results in " + run.toAbsolutePath());
    return 0;
  }

  /**
   * The base weights of a run as a file, and how its adapter refers to them: the shipped model
   * ({@link ModelSource#SHIPPED}), a weights file (its absolute path), or an adapter / run directory (its
   * merged weights are written to {@code base.safetensors} in the run, referred to relatively).
   */
  record BaseModel(Path file, String reference) {}

  static BaseModel baseModel(RunSettings s, Path run) throws IOException {
    if (s.base == null) {
      return new BaseModel(resource(BASE_RESOURCE, run), ModelSource.SHIPPED);
    }
    Path given = Path.of(s.base);
    if (Files.isRegularFile(given)) {
      return new BaseModel(given, given.toAbsolutePath().normalize().toString());
    }
    Path merged = run.resolve("base.safetensors");
    UNet unet = ModelSource.load(given, "");
    AtomicFiles.write(merged, Safetensors.encode(unet.parameters().asMap(),
        java.util.Map.of("config", unet.config().toString(), "nabla.merged_from", given.toAbsolutePath().toString())));
    return new BaseModel(merged, "../base.safetensors");
  }

  /**
   * What a user takes elsewhere, written at every checkpoint and at the end: {@code adapter/} in the PEFT
   * layout with the flow network beside it ({@code adapter/flow.safetensors}), or for a run without LoRA the
   * fine-tuned weights ({@code model.safetensors}, and {@code flow.safetensors}).
   */
  static void exportModel(Path run, Denoiser policy, UNet flow, BaseModel base) throws IOException {
    Path dir = run;
    if (policy instanceof LoraDenoiser lora) {
      dir = run.resolve(ModelSource.RUN_ADAPTER_DIR);
      PeftAdapters.save(lora, dir, base.reference(), ModelSource.adapterMetadata(base.file()));
    } else {
      ((UNet) policy).save(run.resolve(ModelSource.RUN_MODEL_FILE));
    }
    if (flow != null) {
      flow.save(dir.resolve("flow.safetensors"));
    }
  }

  static LoraConfig lora(RunSettings s, UNet unet) {
    if ("attention".equals(s.loraTargets)) {
      return LoraConfig.attention(s.loraRank);
    }
    List<String> targets = unet.parameters().names().stream()
        .filter(n -> n.endsWith(".weight") && unet.parameters().get(n).rank() >= 2).toList();
    return new LoraConfig(s.loraRank, s.loraRank, targets, LoraConfig.Init.KAIMING_UNIFORM);
  }

  static Sampler sampler(RunSettings s) {
    NoiseSchedule schedule = NoiseSchedule.ddpmDefault();
    return switch (s.sampler) {
      case "ddpm" -> Ddpm.of(schedule, s.steps);
      case "sde-dpmpp" -> SdeDpmSolverPP.of(schedule, s.steps);
      default -> Ddim.of(schedule, s.steps).eta(s.eta);
    };
  }

  static Objective objective(RunSettings s) {
    ForwardWeighting weighting = s.forwardCap == null ? ForwardWeighting.score() : ForwardWeighting.capped(s.forwardCap);
    return switch (s.objective) {
      case "nabla-db" -> Objectives.nablaDb().timestepFraction(s.timestepFraction).regScale(s.regScale)
          .forwardWeighting(weighting).innerEpochs(s.innerEpochs);
      case "dag-db" -> Objectives.dagDb().timestepFraction(s.timestepFraction);
      case "residual-db" -> Objectives.residualDb().timestepFraction(s.timestepFraction);
      case "refl" -> Objectives.refl(s.reflLateSteps);
      case "draft-k" -> Objectives.draftK(s.draftK);
      case "draft-lv" -> Objectives.draftLv(s.draftLvCopies);
      case "alignprop" -> Objectives.alignProp();
      case "ddpo" -> Objectives.ddpo().clipRange(s.ddpoClip).innerEpochs(s.innerEpochs);
      // residual-nabla-db, and forward-only: the same objective without a flow network
      default -> Objectives.residualNablaDb().timestepFraction(s.timestepFraction).regScale(s.regScale)
          .forwardWeighting(weighting).innerEpochs(s.innerEpochs);
    };
  }

  static Reward reward(RunSettings s, Classifier classifier, Path run) throws IOException {
    return switch (s.reward) {
      case "aesthetic" -> new AestheticReward(classifier,
          AestheticHead.create(64, Rng.of(0)).load(resource(AESTHETIC_RESOURCE, run)));
      case "ink" -> new InkReward();
      case "symmetry" -> new SymmetryReward();
      case "jpeg" -> new JpegCompressibilityReward(0.75);
      default -> new ClassifierReward(classifier);
    };
  }

  private static INDArray sample(Sampler sampler, Denoiser model, INDArray noise, long[] labels, Rng rng) {
    return sampler.sample(new DenoiserGraph(model), noise, Nd4j.createFromArray(labels), rng.fork("steps", 0));
  }

  /** The evaluation of the samples {@code samples} drawn after {@code iteration} iterations. */
  private static EvalRecord evaluate(long iteration, ClassifierProbe.Result r, ClassifierProbe.Result base,
      long[] labels, int perClass, Reward reward, INDArray samples) {
    double diversity = 0;
    for (int c = 0; c < 10; c++) {
      diversity += Diversity.meanPairwiseCosineDistance(
          r.features().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(c * perClass, (c + 1) * perClass)));
    }
    double rewardMean = reward.evaluate(samples, Nd4j.createFromArray(labels)).meanNumber().doubleValue();
    return new EvalRecord(iteration, rewardMean, r.accuracy(labels), diversity / 10,
        Frechet.distance(r.features(), base.features()));
  }

  /** The evaluations of an eval.jsonl (see {@link MetricsFiles#readEvals}). */
  static List<EvalRecord> readEvals(Path file) throws IOException {
    return MetricsFiles.readEvals(file);
  }

  private static void writePlots(Path run, List<IterationRecord> records, List<EvalRecord> evals) throws IOException {
    if (!records.isEmpty()) {
      double[] it = records.stream().mapToDouble(IterationRecord::iteration).toArray();
      double[] reward = records.stream().mapToDouble(IterationRecord::rewardMean).toArray();
      Plots.line(run.resolve("reward.png"), "Training reward (batch mean)", "iteration", "reward", it,
          List.of("reward"), List.of(reward));
    }
    double[] x = evals.stream().mapToDouble(EvalRecord::iteration).toArray();
    String set = " (fixed evaluation set)";
    Plots.line(run.resolve("eval-reward.png"), "Reward" + set, "iteration", "mean reward", x,
        List.of("reward"), List.of(evals.stream().mapToDouble(EvalRecord::reward).toArray()));
    Plots.line(run.resolve("eval-diversity.png"), "Diversity" + set, "iteration", "within-class cosine distance", x,
        List.of("diversity"), List.of(evals.stream().mapToDouble(EvalRecord::diversity).toArray()));
    Plots.line(run.resolve("eval-fid.png"), "FID to the base model's samples" + set, "iteration",
        "Fréchet distance (classifier features)", x, List.of("FID to base"), List.of(evals.stream().mapToDouble(EvalRecord::fidToBase).toArray()));
  }

  private static void writeConfig(Path file, RunSettings s) throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode c = s.toJson();
    c.put("threads", NablaRuntime.threads());
    if (s.base == null) {
      c.put("base", "shipped: examples/src/main/resources" + BASE_RESOURCE);
    }
    AtomicFiles.write(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(c).getBytes(StandardCharsets.UTF_8));
  }

  /** A shipped resource copied next to the run (the loaders read files). */
  static Path resource(String name, Path dir) throws IOException {
    return io.github.nablagfn.examples.train.Resources.copy(name, dir);
  }
}
