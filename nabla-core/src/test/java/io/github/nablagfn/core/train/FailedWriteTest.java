package io.github.nablagfn.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.nablagfn.core.io.FaultPoints;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Crash safety, point by point: a checkpoint write is failed at each of its steps in turn (temporary
 * file created, half written, written but not flushed, before the rename, after the rename but before the
 * directory is flushed, for the tensor file and then
 * the manifest, and during the pruning of old checkpoints). After every failure the directory still holds
 * the previous checkpoints, the newest complete one loads with exactly the parameters it was written
 * with, no partial file is taken for a checkpoint, and a resumed run continues bit-identically to an
 * uninterrupted one.
 */
class FailedWriteTest {
  @TempDir Path dir;

  @AfterEach
  void disarm() {
    FaultPoints.disarm();
  }

  private static Map<String, INDArray> policyOf(Checkpoints.Loaded c) {
    Map<String, INDArray> m = new java.util.LinkedHashMap<>();
    c.tensors().forEach((k, v) -> {
      if (k.startsWith("policy.")) {
        m.put(k.substring(7), v);
      }
    });
    return m;
  }

  private static List<String> names(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aWriteFailedAtAnyStepLeavesThePreviousCheckpointsLoadable() throws IOException {
    NablaTrainer straight = KilledWriterTest.builder(dir.resolve("straight")).checkpointsKept(2).build();
    straight.fit(5);

    int points = -1;
    for (int failAt = 0; ; failAt++) {
      Path ckpt = dir.resolve("run" + failAt);
      NablaTrainer t = KilledWriterTest.builder(ckpt).checkpointsKept(2).build();
      t.fit(3); // checkpoints 1, 2, 3 written; 2 and 3 kept
      Map<String, INDArray> atThree = policyOf(Checkpoints.latest(ckpt).orElseThrow());
      t.step(); // iteration 4, not yet saved
      FaultPoints.failAt(failAt);
      boolean failed;
      try {
        t.saveCheckpoint();
        failed = false;
      } catch (UncheckedIOException e) {
        failed = true;
        assertThat(e.getCause()).hasMessageContaining("injected failure");
      }
      int passed = FaultPoints.disarm();
      if (!failed) {
        points = passed; // every point passed without the injected failure: all steps covered
        assertThat(Checkpoints.list(ckpt)).containsExactly(4L, 3L);
        break;
      }
      List<Long> left = Checkpoints.list(ckpt);
      Checkpoints.Loaded newest = Checkpoints.latest(ckpt).orElseThrow(); // loads: checksum verified
      if (newest.iteration() == 3) {
        assertThat(policyOf(newest)).as("fail at step %d", failAt).isEqualTo(atThree);
      } else {
        // the failure came after the new manifest was in place (while pruning): checkpoint 4 is complete
        assertThat(newest.iteration()).as("fail at step %d: %s", failAt, left).isEqualTo(4);
        assertThat(policyOf(newest)).isEqualTo(t.policy().parameters().asMap());
      }
      for (String f : names(ckpt)) {
        assertThat(f).as("fail at step %d: no stray temporary file", failAt).doesNotEndWith(".tmp");
      }
      // a new process resumes from what is there and reaches the uninterrupted run's state
      NablaTrainer resumed = KilledWriterTest.builder(ckpt).checkpointsKept(2).build();
      resumed.fit(5);
      resumed.policy().parameters().asMap().forEach((n, p) ->
          assertThat(p).as("resumed %s", n).isEqualTo(straight.policy().parameters().get(n)));
      assertThat(Checkpoints.list(ckpt)).containsExactly(5L, 4L);
      assertThat(names(ckpt)).as("orphans pruned; the fit's lock file stays (emptied)").containsExactly(
          "checkpoint-00000004.json", "checkpoint-00000004.safetensors", "checkpoint-00000005.json",
          "checkpoint-00000005.safetensors", io.github.nablagfn.core.io.RunLock.FILE_NAME);
    }
    // two atomic files of 5 points each, and the pruning of checkpoint 2 (2 points)
    assertThat(points).isEqualTo(12);
  }

  @Test
  void anArmedPointFailsOnceAndDisarms() throws IOException {
    FaultPoints.failAt(1);
    FaultPoints.reachPoint("a");
    assertThatThrownBy(() -> FaultPoints.reachPoint("b")).hasMessageContaining("injected failure at b");
    FaultPoints.reachPoint("c");
    assertThat(FaultPoints.disarm()).as("points reached while armed: a and b").isEqualTo(2);
    assertThatThrownBy(() -> FaultPoints.failAt(-1)).isInstanceOf(IllegalArgumentException.class);
  }
}
