package io.github.nablagfn.examples.cli;

import io.github.nablagfn.core.io.AtomicFiles;
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
 * {@code nabla compare}: the same base model, reward, budget and evaluation set for every method and seed;
 * one {@code finetune} run per (method, seed) under {@code <runs-dir>/<name>/}. A method is an objective with
 * optional settings of its own, {@code objective@key=value@key=value} (keys as in a settings file:
 * {@code ddpo@lr=3e-4@ddpo-clip=1e-3}), so one call can sweep settings or compare tuned methods. Resumable: a
 * finished run (its DONE marker) is not redone, an interrupted one continues from its checkpoint. Then writes
 * {@code summary.md} (final reward, accuracy, diversity and FID to base, mean ± std over seeds, and the wall time;
 * runs that diverged in a table of their own; the methods at two matched reward levels) and plots of reward
 * against iteration and of diversity and FID to base against reward. With {@code --select}, also picks each
 * objective's best setting by the rule of {@link #select} and writes it to {@code selected.txt}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true, modelTransformer = SettingsCommand.Options.class,
    description = "Run several objectives × seeds with one budget and summarise reward, diversity and FID to base.")
final class Compare extends SettingsCommand {
  /** Final FID to base above which a run counts as diverged (off the base model's distribution). */
  static final double DIVERGED_FID = 1000;
  /** The share of the base model's diversity a setting must keep to be selected. */
  static final double KEPT_DIVERSITY = 0.8;
  /** A run's wall time in the sittings before a stop, added to the sitting that finishes it. */
  static final String EARLIER_SECONDS = "seconds-before-stop";

  /** Compare's defaults: finetune's under the name "compare". */
  @Override
  RunSettings defaults() {
    RunSettings d = new RunSettings();
    d.name = "compare";
    return d;
  }

  @Option(names = "--methods", split = ",", description = "Objectives, each optionally with settings of its own: "
      + "objective@key=value@... (default: every objective)")
  List<String> methods = RunSettings.OBJECTIVES;

  @Option(names = "--seeds", description = "Seeds 0..N-1 (default 3; 1 with --quick)")
  Integer seedsOption;

  @Option(names = "--quick", description = "A smoke run: 1 seed, 4 iterations of 2 trajectories, 10 steps, "
      + "2 evaluation samples per class (flags still override)")
  boolean quick;

  @Option(names = "--select", description = "Pick each objective's best setting (highest final reward among the "
      + "settings keeping >= 0.8x the base model's diversity) and write selected.txt")
  boolean select;

  /** A method: an objective and settings of its own, written {@code objective@key=value@...}. */
  record Method(String label, String objective, Map<String, String> values) {
    static Method parse(String spec) {
      String[] parts = spec.split("@");
      if (!RunSettings.OBJECTIVES.contains(parts[0])) {
        throw new IllegalArgumentException("--methods: '" + spec + "' starts with '" + parts[0]
            + "'; expected one of " + RunSettings.OBJECTIVES);
      }
      Map<String, String> values = new LinkedHashMap<>();
      for (int i = 1; i < parts.length; i++) {
        int eq = parts[i].indexOf('=');
        if (eq <= 0 || eq == parts[i].length() - 1) {
          throw new IllegalArgumentException("--methods: '" + spec + "' has '" + parts[i] + "'; expected key=value");
        }
        String key = parts[i].substring(0, eq);
        if (List.of("objective", "seed", "name", "runsDir", "runs-dir").contains(key)) {
          throw new IllegalArgumentException("--methods: '" + spec + "' sets '" + key
              + "', which compare sets itself");
        }
        values.put(key, parts[i].substring(eq + 1));
      }
      return new Method(spec, parts[0], values);
    }

    RunSettings settings(RunSettings base) {
      RunSettings s = values.isEmpty() ? RunSettings.copy(base)
          : RunSettings.withValues(base, values, "--methods '" + label + "'");
      s.objective = objective;
      return s;
    }
  }

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
    List<Method> parsed = new ArrayList<>();
    for (String m : methods) {
      Method method = Method.parse(m);
      method.settings(base).validate(); // every setting checked before the first run starts
      parsed.add(method);
    }
    Path root = Path.of(base.runsDir).resolve(base.name);
    Map<String, List<List<EvalRecord>>> results = new LinkedHashMap<>();
    Map<String, double[]> seconds = new LinkedHashMap<>();
    for (Method m : parsed) {
      for (int seed = 0; seed < seeds; seed++) {
        RunSettings s = m.settings(base);
        s.seed = seed;
        s.runsDir = root.toString();
        s.name = m.label() + "-seed" + seed;
        Path run = root.resolve(s.name);
        long start = System.nanoTime();
        if (!Files.exists(run.resolve("DONE"))) {
          System.out.printf(java.util.Locale.ROOT, "== %s, seed %d%n", m.label(), seed);
          Path earlier = run.resolve(EARLIER_SECONDS);
          double before = Files.exists(earlier) ? Double.parseDouble(Files.readString(earlier).trim()) : 0;
          String which = m.label() + ", seed " + seed;
          // a stop ends the comparison, to be continued by the same command; what it writes and says is done
          // inside the run, before the stop hook lets the JVM exit
          int code = FinetuneRun.run(s.validate(),
              () -> endedEarly(run, before + (System.nanoTime() - start) / 1e9, which, "stopped"));
          if (code == FinetuneRun.STOPPED) {
            return code;
          }
          if (code != 0) { // the later runs are not started
            endedEarly(run, before + (System.nanoTime() - start) / 1e9, which, "ended with status " + code);
            return code;
          }
          writeSeconds(run.resolve("seconds"), before + (System.nanoTime() - start) / 1e9);
        }
        results.computeIfAbsent(m.label(), k -> new ArrayList<>()).add(FinetuneRun.readEvals(run.resolve("eval.jsonl")));
        double secs = Files.exists(run.resolve("seconds")) ? Double.parseDouble(Files.readString(run.resolve("seconds")))
            : Double.NaN;
        seconds.computeIfAbsent(m.label(), k -> new double[seeds])[seed] = secs;
      }
    }
    String summary = summary(base, results, seconds);
    if (select) {
      Map<String, String> chosen = select(parsed, results);
      summary += sweepTable(parsed, results, chosen);
      AtomicFiles.write(root.resolve("selected.txt"),
          (String.join(",", chosen.values()) + "\n").getBytes(StandardCharsets.UTF_8));
      System.out.println("selected: " + String.join(",", chosen.values()));
    }
    AtomicFiles.write(root.resolve("summary.md"), summary.getBytes(StandardCharsets.UTF_8));
    plots(root, results);
    System.out.println("summary in " + root.resolve("summary.md").toAbsolutePath());
    return 0;
  }

  /**
   * A run that ended before its budget: keeps the wall time of its sittings so far (added to the sitting that
   * finishes it) and says how the comparison continues.
   */
  private static void endedEarly(Path run, double seconds, String which, String how) throws java.io.IOException {
    if (Files.isDirectory(run)) {
      writeSeconds(run.resolve(EARLIER_SECONDS), seconds);
    }
    System.err.printf(java.util.Locale.ROOT, "nabla compare: %s %s; run the same command again to continue the "
        + "comparison%n", which, how);
  }

  /** A wall time in seconds, written atomically (a stop or crash mid-write leaves the old file or none). */
  private static void writeSeconds(Path file, double seconds) throws java.io.IOException {
    AtomicFiles.write(file, Double.toString(seconds).getBytes(StandardCharsets.UTF_8));
  }

  private static String meanStd(double[] v) {
    double m = Arrays.stream(v).average().orElse(Double.NaN);
    double sd = v.length < 2 ? 0 : Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / (v.length - 1));
    return String.format(java.util.Locale.ROOT, "%.4g ± %.2g", m, sd);
  }

  /** Whether a method's runs diverged: a non-finite final (seed-mean) value or FID to base above {@link #DIVERGED_FID}. */
  static boolean diverged(List<List<EvalRecord>> runs) {
    double[] reward = seedMean(runs, EvalRecord::reward);
    double[] fid = seedMean(runs, EvalRecord::fidToBase);
    if (reward.length == 0) {
      return false;
    }
    double r = reward[reward.length - 1];
    double f = fid[fid.length - 1];
    return !Double.isFinite(r) || !Double.isFinite(f) || f > DIVERGED_FID;
  }

  private static String row(String name, List<List<EvalRecord>> runs, int at, double[] seconds) {
    return "| " + name + " | " + meanStd(col(runs, at, EvalRecord::reward)) + " | "
        + meanStd(col(runs, at, EvalRecord::accuracy)) + " | " + meanStd(col(runs, at, EvalRecord::diversity)) + " | "
        + (at == 0 ? "0" : meanStd(col(runs, at, EvalRecord::fidToBase))) + " | "
        + (seconds == null ? "" : meanStd(seconds)) + " |\n";
  }

  static String summary(RunSettings s, Map<String, List<List<EvalRecord>>> results, Map<String, double[]> seconds) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(java.util.Locale.ROOT, "# Comparison: reward %s, β = %s, %d iterations of %d, %d steps, "
        + "LoRA rank %d%n%n", s.reward, s.beta, s.iterations, s.batch, s.steps, s.loraRank));
    b.append("Final evaluation (mean ± std over seeds; the base model's values are iteration 0).\n\n");
    String header = "| method | reward | accuracy | diversity | FID to base | wall time s |\n|---|---|---|---|---|---|\n";
    b.append(header);
    StringBuilder off = new StringBuilder();
    boolean first = true;
    for (var e : results.entrySet()) {
      List<List<EvalRecord>> runs = e.getValue();
      if (first) {
        b.append(row("base model", runs, 0, null));
        first = false;
      }
      (diverged(runs) ? off : b).append(row(e.getKey(), runs, -1, seconds.get(e.getKey())));
    }
    if (off.length() > 0) {
      b.append(String.format(java.util.Locale.ROOT, "%nDiverged (a non-finite value or FID to base above %.0f at "
          + "the end; left out of the plots and of the matched-reward tables):%n%n", DIVERGED_FID));
      b.append(header).append(off);
    }
    b.append(matched(results));
    return b.toString();
  }

  /**
   * The matched-reward tables at two levels, among the methods that did not diverge and ended above the
   * base model's reward: r1 = the lowest of their final (seed-mean) rewards (every one of them reaches it) and
   * r2 = the median of them (a higher bar); for each method, its first evaluation whose seed-mean reward
   * reaches the level, so that methods are compared at equal reward rather than equal iterations.
   */
  static String matched(Map<String, List<List<EvalRecord>>> results) {
    double base = Double.NaN;
    List<Double> finals = new ArrayList<>();
    for (List<List<EvalRecord>> runs : results.values()) {
      double[] reward = seedMean(runs, EvalRecord::reward);
      if (reward.length == 0) {
        continue;
      }
      base = reward[0];
      if (!diverged(runs) && reward[reward.length - 1] > reward[0]) {
        finals.add(reward[reward.length - 1]);
      }
    }
    StringBuilder b = new StringBuilder("\n");
    if (finals.isEmpty()) {
      return b.append("No method ended above the base model's reward, so there is no matched-reward point.\n")
          .toString();
    }
    java.util.Collections.sort(finals);
    List<Double> levels = new ArrayList<>(List.of(finals.get(0)));
    double median = finals.get(finals.size() / 2); // the upper median for an even count
    if (finals.size() >= 2 && median > finals.get(0)) {
      levels.add(median);
    }
    for (int l = 0; l < levels.size(); l++) {
      double target = levels.get(l);
      b.append(String.format(java.util.Locale.ROOT, "At matched reward r%d = %.4g (%s of the final rewards of the "
          + "methods that improved on the base model's %.4g): each method's first evaluation (seed mean) with "
          + "reward >= r%d.%n%n", l + 1, target, l == 0 ? "the lowest" : "the median", base, l + 1));
      b.append("| method | iteration | reward | diversity | FID to base |\n|---|---|---|---|---|\n");
      for (var e : results.entrySet()) {
        List<List<EvalRecord>> runs = e.getValue();
        if (diverged(runs)) {
          continue;
        }
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
        b.append("| ").append(e.getKey()).append(" | ").append((long) seedMean(runs, EvalRecord::iteration)[at])
            .append(" | ").append(meanStd(col(runs, at, EvalRecord::reward))).append(" | ")
            .append(meanStd(col(runs, at, EvalRecord::diversity))).append(" | ")
            .append(meanStd(col(runs, at, EvalRecord::fidToBase))).append(" |\n");
      }
      b.append("\n");
    }
    return b.toString();
  }

  /**
   * Each objective's best setting among its methods: the highest final (seed-mean) reward among the settings
   * that did not diverge and keep at least {@link #KEPT_DIVERSITY} of the base model's diversity; when none
   * keeps it, the one that keeps the most. Objective → chosen method, in the order the objectives first appear.
   */
  static Map<String, String> select(List<Method> methods, Map<String, List<List<EvalRecord>>> results) {
    Map<String, String> chosen = new LinkedHashMap<>();
    Map<String, double[]> best = new LinkedHashMap<>(); // objective -> {kept?, score}
    for (Method m : methods) {
      List<List<EvalRecord>> runs = results.get(m.label());
      double[] reward = seedMean(runs, EvalRecord::reward);
      double[] diversity = seedMean(runs, EvalRecord::diversity);
      if (reward.length == 0) {
        continue;
      }
      double kept = diversity[diversity.length - 1] / diversity[0];
      boolean keeps = !diverged(runs) && kept >= KEPT_DIVERSITY;
      double[] score = {keeps ? 1 : 0, keeps ? reward[reward.length - 1] : Double.isFinite(kept) ? kept : -1};
      double[] current = best.get(m.objective());
      if (current == null || score[0] > current[0] || (score[0] == current[0] && score[1] > current[1])) {
        best.put(m.objective(), score);
        chosen.put(m.objective(), m.label());
      }
    }
    return chosen;
  }

  /** The sweep's table: every setting's final values, its diversity as a share of the base's, and the choice. */
  static String sweepTable(List<Method> methods, Map<String, List<List<EvalRecord>>> results,
      Map<String, String> chosen) {
    StringBuilder b = new StringBuilder(String.format(java.util.Locale.ROOT, "%nSettings (chosen: the highest final "
        + "reward among those keeping >= %.1fx the base model's diversity and not diverged; when none does, the one "
        + "keeping the most):%n%n", KEPT_DIVERSITY));
    b.append("| setting | reward | accuracy | diversity (x base) | FID to base | chosen |\n|---|---|---|---|---|---|\n");
    for (Method m : methods) {
      List<List<EvalRecord>> runs = results.get(m.label());
      double[] diversity = seedMean(runs, EvalRecord::diversity);
      if (diversity.length == 0) {
        continue;
      }
      b.append(String.format(java.util.Locale.ROOT, "| %s | %s | %s | %.3g (%.2fx) | %s | %s |%n", m.label(),
          meanStd(col(runs, -1, EvalRecord::reward)), meanStd(col(runs, -1, EvalRecord::accuracy)),
          diversity[diversity.length - 1], diversity[diversity.length - 1] / diversity[0],
          meanStd(col(runs, -1, EvalRecord::fidToBase)), m.label().equals(chosen.get(m.objective())) ? "yes" : ""));
    }
    return b.toString();
  }

  /** One value of each seed's evaluation at index {@code row} (−1: the last). */
  private static double[] col(List<List<EvalRecord>> runs, int row, ToDoubleFunction<EvalRecord> value) {
    return runs.stream().mapToDouble(r -> r.isEmpty() ? Double.NaN : value.applyAsDouble(r.get(row < 0 ? r.size() - 1 : row)))
        .toArray();
  }

  /**
   * Reward against iteration (seed mean, bars ± one std over seeds), diversity and FID to base against reward
   * (seed means), each method in its own colour and marker; diverged methods are left out (summary.md lists
   * them), and FID goes on a log axis when it spans more than two decades (from the first evaluation after
   * iteration 0: the base against itself has FID 0).
   */
  private static void plots(Path root, Map<String, List<List<EvalRecord>>> results) throws java.io.IOException {
    List<Plots.Series> reward = new ArrayList<>();
    List<Plots.Series> diversity = new ArrayList<>();
    List<Plots.Series> fid = new ArrayList<>();
    for (var e : results.entrySet()) {
      List<List<EvalRecord>> runs = e.getValue();
      double[] it = seedMean(runs, EvalRecord::iteration);
      if (it.length == 0 || diverged(runs)) {
        continue;
      }
      double[] r = seedMean(runs, EvalRecord::reward);
      reward.add(new Plots.Series(e.getKey(), it, r, seedStd(runs, EvalRecord::reward)));
      diversity.add(new Plots.Series(e.getKey(), r, seedMean(runs, EvalRecord::diversity), null));
      // iteration 0 compares the base with itself: FID 0 up to rounding (1e-9), which a log axis would plot
      int from = it[0] == 0 ? 1 : 0;
      double[] f = seedMean(runs, EvalRecord::fidToBase);
      fid.add(new Plots.Series(e.getKey(), java.util.Arrays.copyOfRange(r, from, r.length),
          java.util.Arrays.copyOfRange(f, from, f.length), null));
    }
    if (reward.isEmpty()) {
      return;
    }
    Plots.chart(root.resolve("reward-vs-iteration.png"), "Reward (seed mean ± std)", "iteration", "reward", reward,
        false);
    Plots.chart(root.resolve("diversity-vs-reward.png"), "Diversity against reward (seed means)", "reward",
        "within-class diversity", diversity, false);
    Plots.chart(root.resolve("fid-vs-reward.png"), "FID to base against reward (seed means)", "reward",
        "FID to base", fid, Plots.spansDecades(fid));
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

  /** The standard deviation over seeds (0 for one seed) at every evaluation point the seeds share. */
  private static double[] seedStd(List<List<EvalRecord>> runs, ToDoubleFunction<EvalRecord> value) {
    double[] mean = seedMean(runs, value);
    double[] sd = new double[mean.length];
    for (int i = 0; i < mean.length && runs.size() > 1; i++) {
      int fi = i;
      double ss = runs.stream().mapToDouble(r -> Math.pow(value.applyAsDouble(r.get(fi)) - mean[fi], 2)).sum();
      sd[i] = Math.sqrt(ss / (runs.size() - 1));
    }
    return sd;
  }
}
