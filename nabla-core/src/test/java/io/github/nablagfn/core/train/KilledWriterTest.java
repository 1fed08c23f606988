package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.model.MlpDenoiser;
import io.github.nablagfn.core.objective.Objectives;
import io.github.nablagfn.core.reward.LinearReward;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.core.sampler.Ddim;
import io.github.nablagfn.core.sampler.PredictionType;
import io.github.nablagfn.core.schedule.NoiseSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash safety with a real kill: a child JVM trains and writes a checkpoint after every iteration; it is
 * killed (SIGKILL) at a random moment, mid-write or not. The newest checkpoint left behind loads, and
 * resuming from it to a later iteration gives bit-identical parameters to an uninterrupted run.
 */
class KilledWriterTest {
  @TempDir Path dir;

  static NablaTrainer.Builder builder(Path ckpt) {
    return NablaTrainer.builder()
        .policy(MlpDenoiser.create(new MlpDenoiser.Config(2, 32, 2, 8, 0, PredictionType.EPSILON), Rng.of(1)))
        .flow(FlowModel.of(MlpDenoiser.create(new MlpDenoiser.Config(2, 16, 2, 8, 0, PredictionType.EPSILON)
            .withZeroOutput(), Rng.of(2))))
        .sampler(Ddim.of(NoiseSchedule.ddpmDefault(), 10)).reward(new LinearReward(new double[] {1, 0}).scaled(2))
        .objective(Objectives.residualNablaDb()).batchSize(8).seed(9).checkpointDir(ckpt).checkpointEvery(1)
        .checkpointsKept(3);
  }

  /** The child: trains (and checkpoints every iteration) until killed. */
  public static void main(String[] args) {
    builder(Path.of(args[0])).build().fit(1_000_000);
  }

  @Test
  void aKilledWriterLeavesALoadableCheckpointAndResumingIsBitIdentical() throws Exception {
    Path ckpt = dir.resolve("run");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        "-Dnabla.threads=" + System.getProperty("nabla.threads", "1"), KilledWriterTest.class.getName(), ckpt.toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("child.log").toFile()).start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline && (!Files.isDirectory(ckpt) || Checkpoints.list(ckpt).size() < 2
        || Checkpoints.list(ckpt).get(0) < 3)) {
      Thread.sleep(50);
    }
    Thread.sleep(new java.util.Random(7).nextInt(200)); // some moment within the writing loop
    child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    assertThat(Checkpoints.list(ckpt)).as("checkpoints written before the kill (child log in %s)", dir).isNotEmpty();
    long k = Checkpoints.latest(ckpt).orElseThrow().iteration(); // loads: no exception
    List<Path> stray = Files.list(ckpt).filter(p -> !p.getFileName().toString().matches("checkpoint-\\d+\\.(json|safetensors)"))
        .filter(p -> !p.getFileName().toString().equals(io.github.nablagfn.core.io.RunLock.FILE_NAME)) // the dead child's
        .toList();
    // a kill during a write may leave a temp file; it is never taken for a checkpoint
    assertThat(stray).allMatch(p -> p.getFileName().toString().contains(".tmp"));
    NablaTrainer resumed = builder(ckpt).build();
    resumed.fit(k + 2);
    NablaTrainer straight = builder(null).build();
    straight.fit(k + 2);
    for (String n : straight.policy().parameters().names()) {
      assertThat(resumed.policy().parameters().get(n)).as("policy %s after resuming at %d", n, k)
          .isEqualTo(straight.policy().parameters().get(n));
    }
  }
}
