package io.github.nablagfn.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.nablagfn.core.io.RunLock;
import io.github.nablagfn.core.testing.TwinFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM ({@link Process#destroy()}; every fifth time SIGINT, as Ctrl-C) at seeded random moments of a
 * command-line run, 20 times: every stop is clean (exit 143, 130 for SIGINT, the iteration in progress finished and checkpointed, no temporary file, the lock file
 * emptied, each iteration once in metrics.jsonl), and the run, resumed after each, ends with the adapter of
 * an uninterrupted run, bit for bit.
 *
 * <p>A process started with SIGINT ignored (a background job of a non-interactive shell, {@code nohup}) passes
 * that on to its children, and the JVM then leaves SIGINT ignored, as a Unix program should: there the
 * Ctrl-C stops are SIGTERM too, and the test says so in its output.
 */
@Tag("slow")
class CleanStopTest {
  private static final int ITERATIONS = 60;
  private static final int KILLS = 20;
  @TempDir Path dir;

  private static List<String> args(Path runs, String name) {
    return List.of("finetune", "--base", TwinFixtures.dir().resolve("unet.safetensors").toString(), "--runs-dir",
        runs.toString(), "--name", name, "--objective", "residual-nabla-db", "--iterations", Integer.toString(ITERATIONS),
        "--batch", "2", "--steps", "4", "--eval-every", Integer.toString(ITERATIONS), "--eval-per-class", "2");
  }

  private static Process start(Path runs, String name, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Dnabla.threads=1", Nabla.class.getName()));
    cmd.addAll(args(runs, name));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private static List<Long> metricIterations(Path run) throws Exception {
    Path f = run.resolve("metrics.jsonl");
    if (!Files.exists(f)) {
      return List.of();
    }
    ObjectMapper json = new ObjectMapper();
    List<Long> its = new ArrayList<>();
    for (String line : Files.readAllLines(f)) {
      its.add(json.readTree(line).get("iteration").asLong());
    }
    return its;
  }

  private static long newestCheckpoint(Path run) throws Exception {
    long newest = -1;
    Path ckpt = run.resolve("checkpoints");
    if (Files.isDirectory(ckpt)) {
      try (var s = Files.list(ckpt)) {
        for (Path p : s.toList()) {
          java.util.regex.Matcher m = java.util.regex.Pattern.compile("checkpoint-(\\d+)\\.json").matcher(p.getFileName().toString());
          if (m.matches()) {
            newest = Math.max(newest, Long.parseLong(m.group(1)));
          }
        }
      }
    }
    return newest;
  }

  /** Whether this process ignores SIGINT (so its children do): bit 2 of /proc/self/status's SigIgn mask. */
  static boolean sigintIgnored() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("SigIgn:")) {
          return (Long.parseUnsignedLong(line.substring(7).trim(), 16) & (1L << (2 - 1))) != 0;
        }
      }
    } catch (java.io.IOException | NumberFormatException e) {
      return false; // no /proc: assume the default disposition
    }
    return false;
  }

  @Test
  void twentyTermSignalsAtRandomMomentsLoseNothingAndTheRunEndsAsAnUninterruptedOne() throws Exception {
    boolean sigint = !sigintIgnored();
    if (!sigint) {
      System.out.println("CleanStopTest: SIGINT is ignored in this process and its children (started in the "
          + "background?); every stop is a SIGTERM");
    }
    Path runs = dir.resolve("runs");
    Path log = dir.resolve("children.log");
    Path run = runs.resolve("killed");
    Random random = new Random(20261207);
    int kills = 0;
    while (kills < KILLS) {
      assertThat(run.resolve("DONE")).as("the run finished before %d kills; raise ITERATIONS", KILLS).doesNotExist();
      int before = metricIterations(run).size();
      Process child = start(runs, "killed", log);
      // wait until it trains (a new metrics line), then let it run a random while into an iteration
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (metricIterations(run).size() <= before && child.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(child.isAlive()).as("child %d trains (log %s)", kills, log).isTrue();
      Thread.sleep(random.nextInt(700));
      boolean interrupt = sigint && kills % 5 == 4; // every fifth stop is a Ctrl-C (SIGINT) instead of SIGTERM
      if (interrupt) {
        new ProcessBuilder("kill", "-INT", Long.toString(child.pid())).start().waitFor();
      } else {
        child.destroy(); // SIGTERM
      }
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("child %d stops", kills).isTrue();
      assertThat(child.exitValue()).as("child %d exit status (log %s)", kills, log).isEqualTo(interrupt ? 130 : 143);
      kills++;

      List<Long> its = metricIterations(run);
      for (int i = 0; i < its.size(); i++) {
        assertThat(its.get(i)).as("kill %d: metrics.jsonl holds each iteration once, in order", kills).isEqualTo(i);
      }
      assertThat(newestCheckpoint(run)).as("kill %d: the iteration in progress was finished and checkpointed", kills)
          .isEqualTo(its.size());
      try (var files = Files.walk(run)) {
        assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList())
            .as("kill %d: no temporary file left", kills).isEmpty();
      }
      assertThat(Files.readString(run.resolve(RunLock.FILE_NAME))).as("kill %d: the lock was released cleanly", kills)
          .isEmpty();
    }
    // resumed to the end, then the same run without interruption (both in child JVMs with the same threads)
    for (String name : List.of("killed", "straight")) {
      Process child = start(runs, name, log);
      assertThat(child.waitFor(600, TimeUnit.SECONDS)).as(name + " finishes").isTrue();
      assertThat(child.exitValue()).as("%s exit status (log %s)", name, log).isZero();
    }
    assertThat(metricIterations(run)).hasSize(ITERATIONS);
    for (int i = 0; i < ITERATIONS; i++) {
      assertThat(metricIterations(run).get(i)).isEqualTo(i);
    }
    assertThat(Files.readAllBytes(run.resolve("adapter/adapter_model.safetensors")))
        .as("the adapter after %d kills equals the uninterrupted run's", KILLS)
        .isEqualTo(Files.readAllBytes(runs.resolve("straight/adapter/adapter_model.safetensors")));
    assertThat(Files.readAllBytes(run.resolve("adapter/flow.safetensors")))
        .isEqualTo(Files.readAllBytes(runs.resolve("straight/adapter/flow.safetensors")));
  }

  /**
   * A stop during a comparison ends the comparison (exit 143, the stopped run checkpointed, the next run not
   * started, no stack trace); the same command continues it, and the wall time of the stopped run counts
   * both sittings.
   */
  @Test
  void aStopDuringCompareEndsTheComparisonAndTheSameCommandContinuesIt() throws Exception {
    Path runs = dir.resolve("runs");
    Path log = dir.resolve("compare.log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "-Dnabla.threads=1", Nabla.class.getName(), "compare",
        "--base", TwinFixtures.dir().resolve("unet.safetensors").toString(), "--runs-dir", runs.toString(),
        "--name", "cmp", "--methods", "residual-nabla-db,refl", "--seeds", "1", "--iterations", "40", "--batch", "2",
        "--steps", "4", "--eval-every", "40", "--eval-per-class", "2"));
    Path first = runs.resolve("cmp/residual-nabla-db-seed0");
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (metricIterations(first).size() < 2 && child.isAlive() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(child.isAlive()).as("compare trains its first run (log %s)", log).isTrue();
    child.destroy(); // SIGTERM
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("compare stops").isTrue();
    String out = Files.readString(log);
    assertThat(child.exitValue()).as("exit status (log %s)", log).isEqualTo(143);
    assertThat(out).contains("residual-nabla-db, seed 0 stopped; run the same command again")
        .doesNotContain("Shutdown in progress").doesNotContain("IllegalStateException").doesNotContain("== refl");
    assertThat(first.resolve("DONE")).doesNotExist();
    assertThat(runs.resolve("cmp/refl-seed0")).as("the next run is not started").doesNotExist();
    double stoppedSitting = Double.parseDouble(Files.readString(first.resolve(Compare.EARLIER_SECONDS)).trim());
    assertThat(stoppedSitting).isPositive();

    Process again = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    assertThat(again.waitFor(600, TimeUnit.SECONDS)).as("the comparison finishes").isTrue();
    assertThat(again.exitValue()).as("exit status (log %s)", log).isZero();
    assertThat(first.resolve("DONE")).exists();
    assertThat(runs.resolve("cmp/refl-seed0/DONE")).exists();
    assertThat(runs.resolve("cmp/summary.md")).exists();
    assertThat(metricIterations(first)).hasSize(40);
    assertThat(Double.parseDouble(Files.readString(first.resolve("seconds")).trim()))
        .as("the run's wall time counts the stopped sitting").isGreaterThan(stoppedSitting);
  }
}
