package io.github.nablagfn.rewards.analytic;

import io.github.nablagfn.core.nn.GraphScope;
import io.github.nablagfn.core.reward.Reward;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * JPEG compressibility (DDPO's reward): R(x) = −(size of x encoded as a grayscale JPEG at the given quality)
 * in kilobytes, with the JDK's own JPEG writer. Not differentiable: use it with objectives that only need
 * reward values (DDPO).
 */
public final class JpegCompressibilityReward implements Reward {
  private final float quality;

  /** @param quality JPEG quality in (0, 1], e.g. 0.95 */
  public JpegCompressibilityReward(double quality) {
    if (!(quality > 0 && quality <= 1)) {
      throw new IllegalArgumentException("JPEG quality = " + quality + "; expected in (0, 1]");
    }
    this.quality = (float) quality;
  }

  @Override
  public String name() {
    return "jpeg-compressibility";
  }

  @Override
  public boolean differentiable() {
    return false;
  }

  @Override
  public SDVariable forward(GraphScope scope, SDVariable x, SDVariable condition) {
    throw new UnsupportedOperationException("JPEG compressibility is not differentiable; use evaluate()");
  }

  @Override
  public INDArray evaluate(INDArray x, INDArray condition) {
    if (x.rank() != 4 || x.size(1) != 1) {
      throw new IllegalArgumentException("images of shape " + java.util.Arrays.toString(x.shape())
          + "; expected (N, 1, H, W)");
    }
    int n = (int) x.size(0);
    int h = (int) x.size(2);
    int w = (int) x.size(3);
    float[] data = x.castTo(DataType.FLOAT).dup('c').data().asFloat();
    double[] r = new double[n];
    for (int i = 0; i < n; i++) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
      var raster = img.getRaster();
      for (int y = 0; y < h; y++) {
        for (int c = 0; c < w; c++) {
          float v = data[(i * h + y) * w + c];
          raster.setSample(c, y, 0, Math.round((Math.max(-1f, Math.min(1f, Float.isNaN(v) ? -1f : v)) + 1f) * 127.5f));
        }
      }
      r[i] = -encodedBytes(img) / 1024.0;
    }
    return Nd4j.createFromArray(r).castTo(DataType.FLOAT);
  }

  private int encodedBytes(BufferedImage img) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam p = writer.getDefaultWriteParam();
      p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      p.setCompressionQuality(quality);
      writer.write(null, new IIOImage(img, null, null), p);
    } catch (IOException e) {
      throw new UncheckedIOException("JPEG encoding failed", e);
    } finally {
      writer.dispose();
    }
    return bytes.size();
  }
}
