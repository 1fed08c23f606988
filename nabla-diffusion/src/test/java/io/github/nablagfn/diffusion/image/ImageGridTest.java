package io.github.nablagfn.diffusion.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class ImageGridTest {
  @TempDir Path dir;

  @Test
  void gridPngDecodesWithTheExpectedLayoutAndPixels() throws IOException {
    INDArray imgs = Nd4j.zeros(DataType.FLOAT, 5, 1, 4, 4).subi(1); // black
    imgs.putScalar(new long[] {0, 0, 0, 0}, 1f);                     // one white pixel in image 0
    imgs.putScalar(new long[] {4, 0, 3, 3}, 0f);                     // mid grey in image 4
    Path f = dir.resolve("grid.png");
    ImageGrid.write(f, imgs, 3);
    BufferedImage back = ImageIO.read(f.toFile());
    assertThat(back.getWidth()).isEqualTo(3 * 4 + 4 * 2);
    assertThat(back.getHeight()).isEqualTo(2 * 4 + 3 * 2);
    assertThat(back.getRaster().getSample(2, 2, 0)).isEqualTo(255);  // image 0 at (gap, gap)
    assertThat(back.getRaster().getSample(3, 2, 0)).isEqualTo(0);
    assertThat(back.getRaster().getSample(0, 0, 0)).isEqualTo(128);  // border
    // image 4: row 1, column 1 → origin (2 + 6, 2 + 6), pixel (3, 3)
    assertThat(back.getRaster().getSample(8 + 3, 8 + 3, 0)).isEqualTo(128);
    assertThatThrownBy(() -> ImageGrid.render(Nd4j.zeros(2, 3), 2, 1)).hasMessageContaining("expected (N, 1, H, W)");
  }
}
