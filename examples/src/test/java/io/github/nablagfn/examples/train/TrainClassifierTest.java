package io.github.nablagfn.examples.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.nablagfn.core.io.Safetensors;
import io.github.nablagfn.core.runtime.Rng;
import io.github.nablagfn.diffusion.data.Idx;
import io.github.nablagfn.rewards.classifier.Classifier;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training main runs end to end on a tiny synthetic IDX set and writes loadable weights with provenance. */
class TrainClassifierTest {
  @TempDir Path dir;

  private static void writeSet(Path dir, String prefix, int n, long seed) throws Exception {
    Rng rng = Rng.of(seed);
    byte[] images = new byte[n * 28 * 28];
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) (i % 10);
      // class k: a bright bar in row band k, so the task is learnable
      for (int r = 0; r < 28; r++) {
        for (int c = 0; c < 28; c++) {
          boolean bar = r / 3 == labels[i];
          images[(i * 28 + r) * 28 + c] = (byte) (bar ? 200 + rng.nextInt(50) : rng.nextInt(30));
        }
      }
    }
    Idx.write(dir.resolve(prefix + "-images-idx3-ubyte.gz"), new int[] {n, 28, 28}, images, true);
    Idx.write(dir.resolve(prefix + "-labels-idx1-ubyte.gz"), new int[] {n}, labels, true);
  }

  @Test
  void trainsAndWritesWeightsWithProvenance() throws Exception {
    writeSet(dir, "train", 64, 1);
    writeSet(dir, "t10k", 20, 2);
    Path out = dir.resolve("clf.safetensors");
    TrainClassifier.main(new String[] {dir.toString(), out.toString(), "2", "16", "3"});
    Classifier c = Classifier.create(1, 10, Rng.of(0)).load(out);
    assertThat(c.parameters().count()).isEqualTo(56_394);
    Safetensors.Contents meta = Safetensors.read(out);
    assertThat(meta.metadata()).containsKeys("test_accuracy", "data", "epochs", "seed", "wall_seconds");
    assertThat(Double.parseDouble(meta.metadata().get("test_accuracy"))).isBetween(0.0, 1.0);
  }
}
