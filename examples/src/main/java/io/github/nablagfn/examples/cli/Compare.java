package io.github.nablagfn.examples.cli;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nabla compare}: the same base model, reward, β, iteration budget and evaluation set for every
 * method and seed; one {@code finetune} run per (method, seed) under {@code <runs-dir>/<name>/}. Resumable:
 * a finished run (its DONE marker) is not redone, an interrupted one continues from its checkpoint. Then
 * writes {@code summary.md} (mean ± std over seeds of the final reward, accuracy, diversity and FID to
 * base, and the wall time) and plots of reward against iteration and of diversity and FID against reward.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, modelTransformer = SettingsCommand.Options.class,
    description = "Run several objectives × seeds with one budget and summarise reward, diversity and FID to base.")
final class Compare extends SettingsCommand {
  /** Compare's defaults: finetune's under the name "compare". */
  @Override
  RunSettings defaults() {
    RunSettings d = new RunSettings();
    d.name = "compare";
    return d;
  }

  @Option(names = "--methods", split = ",", description = "Objectives (default: all seven)")
  List<String> methods = RunSettings.OBJECTIVES;

  @Option(names = "--seeds", description = "Seeds 0..N-1 (default 3; 1 with --quick)")
  Integer seedsOption;

  @Option(names = "--quick", description = "A smoke run: 1 seed, 4 iterations of 2 trajectories, 10 steps, "
      + "2 evaluation samples per class (flags still override)")
  boolean quick;

  @Override
  public Integer call() throws Exception {
    RunSettings defaults = defaults();
    if (quick) {
      defaults.iterations = 4;
      defaults.batch = 2;
      defaults.steps = 10;
      defaults.evalEvery = 2;
      defaults.evalPerClass = 2;
    }
    int seeds = seedsOption != null ? seedsOption : quick ? 1 : 3;
    RunSettings base = settings(defaults);
    if (seeds < 1) {
      throw new IllegalArgumentException("--seeds = " + seeds + "; expected >= 1");
    }
    for (String m : methods) {
      if (!RunSettings.OBJECTIVES.contains(m)) {
        throw new IllegalArgumentException("--methods: '" + m + "'; expected some of " + RunSettings.OBJECTIVES);
      }
    }
    Path root = Path.of(base.runsDir).resolve(base.name);
    Map<String, List<List<EvalRecord>>> results = new LinkedHashMap<>();
    Map<String, double[]> seconds = new LinkedHashMap<>();
    for (String m : methods) {
      for (int seed = 0; seed < seeds; seed++) {
        RunSettings s = RunSettings.copy(base);
        s.objective = m;
        s.seed = seed;
        s.runsDir = root.toString();
        s.name = m + "-seed" + seed;
        Path run = root.resolve(s.name);
        long start = System.nanoTime();
        if (!Files.exists(run.resolve("DONE"))) {
          System.out.printf(java.util.Locale.ROOT, "== %s, seed %d%n", m, seed);
          FinetuneRun.run(s.validate());
          Files.writeString(run.resolve("seconds"), Double.toString((System.nanoTime() - start) / 1e9));
        }
        results.computeIfAbsent(m, k -> new ArrayList<>()).add(FinetuneRun.readEvals(run.resolve("eval.jsonl")));
        double secs = Files.exists(run.resolve("seconds")) ? Double.parseDouble(Files.readString(run.resolve("seconds")))
            : Double.NaN;
        seconds.computeIfAbsent(m, k -> new double[seeds])[seed] = secs;
      }
    }
    Files.writeString(root.resolve("summary.md"), summary(base, results, seconds), StandardCharsets.UTF_8);
    plots(root, results);
    System.out.println("summary in " + root.resolve("summary.md").toAbsolutePath());
    return 0;
  }


  private static String meanStd(double[] v) {
    double m = Arrays.stream(v).average().orElse(Double.NaN);
    double sd = v.length < 2 ? 0 : Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
    return String.format(java.util.Locale.ROOT, "%.4g ± %.2g", m, sd);
  }

  static String summary(RunSettings s, Map<String, List<List<EvalRecord>>> results, Map<String, double[]> seconds) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(java.util.Locale.ROOT, "# Comparison: reward %s, β = %s, %d iterations of %d, %d steps, "
        + "LoRA rank %d%n%n", s.reward, s.beta, s.iterations, s.batch, s.steps, s.loraRank));
    b.append("Final evaluation (mean ± std over seeds; the base model's values are iteration 0).\n\n");
    b.append("| method | reward | accuracy | diversity | FID to base | wall time s |\n|---|---|---|---|---|---|\n");
    boolean first = true;
    for (var e : results.entrySet()) {
      List<List<EvalRecord>> runs = e.getValue();
      if (first) {
        b.append("| base model | ").append(meanStd(col(runs, 0, EvalRecord::reward))).append(" | ").append(meanStd(col(runs, 0, EvalRecord::accuracy)))
            .append(" | ").append(meanStd(col(runs, 0, EvalRecord::diversity))).append(" | 0 | |\n");
        first = false;
      }
      b.append("| ").append(e.getKey()).append(" | ").append(meanStd(col(runs, -1, EvalRecord::reward))).append(" | ")
          .append(meanStd(col(runs, -1, EvalRecord::accuracy))).append(" | ").append(meanStd(col(runs, -1, EvalRecord::diversity))).append(" | ")
          .append(meanStd(col(runs, -1, EvalRecord::fidToBase))).append(" | ").append(meanStd(seconds.get(e.getKey()))).append(" |\n");
    }
    b.append(matched(results));
    return b.toString();
  }

  /**
   * The matched-reward table: r* is the lowest final (seed-mean) reward among the methods that end above
   * the base model; for each method, diversity and FID to base at its first evaluation whose seed-mean
   * reward reaches r*, so that methods are compared at equal reward rather than equal iterations.
   */
  static String matched(Map<String, List<List<EvalRecord>>> results) {
    double base = Double.NaN;
    double target = Double.POSITIVE_INFINITY;
    for (List<List<EvalRecord>> runs : results.values()) {
      double[] reward = seedMean(runs, EvalRecord::reward);
      if (reward.length == 0) {
        continue;
      }
      base = reward[0];
      if (reward[reward.length - 1] > reward[0]) {
        target = Math.min(target, reward[reward.length - 1]);
      }
    }
    StringBuilder b = new StringBuilder("\n");
    if (Double.isInfinite(target)) {
      return b.append("No method ended above the base model's reward, so there is no matched-reward point.\n")
          .toString();
    }
    b.append(String.format(java.util.Locale.ROOT, "At matched reward r* = %.4g (the lowest final reward among the "
        + "methods that improved on the base model's %.4g): each method's first evaluation (seed mean) with "
        + "reward >= r*.%n%n", target, base));
    b.append("| method | iteration | reward | diversity | FID to base |\n|---|---|---|---|---|\n");
    for (var e : results.entrySet()) {
      List<List<EvalRecord>> runs = e.getValue();
      double[] reward = seedMean(runs, EvalRecord::reward);
      int at = -1;
      for (int i = 0; i < reward.length && at < 0; i++) {
        if (reward[i] >= target) {
          at = i;
        }
      }
      if (at < 0) {
        b.append("| ").append(e.getKey()).append(" | not reached | | | |\n");
        continue;
      }
      b.append("| ").append(e.getKey()).append(" | ").append((long) seedMean(runs, EvalRecord::iteration)[at]).append(" | ")
          .append(meanStd(col(runs, at, EvalRecord::reward))).append(" | ").append(meanStd(col(runs, at, EvalRecord::diversity))).append(" | ")
          .append(meanStd(col(runs, at, EvalRecord::fidToBase))).append(" |\n");
    }
    return b.toString();
  }

  /** One value of each seed's evaluation at index {@code row} (−1: the last). */
  private static double[] col(List<List<EvalRecord>> runs, int row, ToDoubleFunction<EvalRecord> value) {
    return runs.stream().mapToDouble(r -> r.isEmpty() ? Double.NaN : value.applyAsDouble(r.get(row < 0 ? r.size() - 1 : row)))
        .toArray();
  }

  private static void plots(Path root, Map<String, List<List<EvalRecord>>> results) throws java.io.IOException {
    List<String> names = new ArrayList<>(results.keySet());
    List<double[]> iterations = new ArrayList<>();
    List<double[]> reward = new ArrayList<>();
    List<double[]> diversity = new ArrayList<>();
    List<double[]> fid = new ArrayList<>();
    for (String m : names) {
      List<List<EvalRecord>> runs = results.get(m);
      iterations.add(seedMean(runs, EvalRecord::iteration));
      reward.add(seedMean(runs, EvalRecord::reward));
      diversity.add(seedMean(runs, EvalRecord::diversity));
      fid.add(seedMean(runs, EvalRecord::fidToBase));
    }
    if (names.isEmpty() || iterations.get(0).length == 0) {
      return;
    }
    Plots.xy(root.resolve("reward-vs-iteration.png"), "Reward (seed mean)", "iteration", "reward", names,
        iterations, reward);
    Plots.xy(root.resolve("diversity-vs-reward.png"), "Diversity against reward (seed mean)", "reward",
        "within-class diversity", names, reward, diversity);
    Plots.xy(root.resolve("fid-vs-reward.png"), "FID to base against reward (seed mean)", "reward",
        "FID to base", names, reward, fid);
  }

  /** A value averaged over seeds at every evaluation point the seeds share. */
  private static double[] seedMean(List<List<EvalRecord>> runs, ToDoubleFunction<EvalRecord> value) {
    int len = runs.stream().mapToInt(List::size).min().orElse(0);
    double[] mean = new double[len];
    for (int i = 0; i < len; i++) {
      int fi = i;
      mean[i] = runs.stream().mapToDouble(r -> value.applyAsDouble(r.get(fi))).average().orElse(Double.NaN);
    }
    return mean;
  }
}
