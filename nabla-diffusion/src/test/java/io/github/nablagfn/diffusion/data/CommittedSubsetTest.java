package io.github.nablagfn.diffusion.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The committed Fashion-MNIST subset reads through the real IDX reader and has 30 images per class. */
class CommittedSubsetTest {
  static Path subset(String file) throws URISyntaxException {
    return Paths.get(CommittedSubsetTest.class.getResource("/fashion-mnist-subset/" + file).toURI());
  }

  @Test
  void subsetHasThirtyImagesPerClassInRange() throws Exception {
    Idx.UByteTensor images = Idx.read(subset("images-idx3-ubyte.gz"), 3);
    Idx.UByteTensor labels = Idx.read(subset("labels-idx1-ubyte.gz"), 1);
    assertThat(images.dims()).containsExactly(300, 28, 28);
    assertThat(labels.dims()).containsExactly(300);
    int[] counts = new int[10];
    for (byte b : labels.data()) {
      counts[b]++;
    }
    assertThat(counts).containsOnly(30);
    INDArray x = Idx.toModelInput(images, 2);
    assertThat(x.shape()).containsExactly(300, 1, 32, 32);
    // real images: not constant, both ends of the range present
    assertThat(x.maxNumber().doubleValue()).isEqualTo(1.0);
    assertThat(x.minNumber().doubleValue()).isEqualTo(-1.0);
    assertThat(x.meanNumber().doubleValue()).isBetween(-0.9, 0.0);
  }
}
