package io.github.nablagfn.diffusion.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a batch of single-channel images (N, 1, H, W) in [−1, 1] as one grayscale PNG grid of
 * {@code columns} images per row, with a {@code gap}-pixel mid-grey border.
 */
public final class ImageGrid {
  private ImageGrid() {}

  public static BufferedImage render(INDArray images, int columns, int gap) {
    if (images.rank() != 4 || images.size(1) != 1) {
      throw new IllegalArgumentException("images of shape " + java.util.Arrays.toString(images.shape())
          + "; expected (N, 1, H, W)");
    }
    if (columns < 1 || gap < 0) {
      throw new IllegalArgumentException("columns = " + columns + ", gap = " + gap + "; expected >= 1 and >= 0");
    }
    int n = (int) images.size(0);
    int h = (int) images.size(2);
    int w = (int) images.size(3);
    int rows = (n + columns - 1) / columns;
    int width = columns * w + (columns + 1) * gap;
    int height = rows * h + (rows + 1) * gap;
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
    var raster = img.getRaster();
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        raster.setSample(x, y, 0, 128);
      }
    }
    float[] data = images.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
    for (int i = 0; i < n; i++) {
      int ox = gap + (i % columns) * (w + gap);
      int oy = gap + (i / columns) * (h + gap);
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
          float v = data[(i * h + r) * w + c];
          int g = Math.round((Math.max(-1f, Math.min(1f, Float.isNaN(v) ? -1f : v)) + 1f) * 127.5f);
          raster.setSample(ox + c, oy + r, 0, g);
        }
      }
    }
    return img;
  }

  /** Renders and writes the grid as PNG (creating parent directories). */
  public static void write(Path file, INDArray images, int columns) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    if (!ImageIO.write(render(images, columns, 2), "png", file.toFile())) {
      throw new IOException("no PNG writer available");
    }
  }
}
