package io.github.nablagfn.diffusion.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The IDX format (LeCun's MNIST files): magic 0x00 0x00 type rank, then {@code rank} big-endian 32-bit
 * dimensions, then the data. nabla reads unsigned-byte tensors (type 0x08): images (rank 3) and labels
 * (rank 1). Files may be gzip-compressed (detected by their magic bytes). A file whose magic, type, rank
 * or dimensions are wrong, or that is shorter than its dimensions declare, is rejected with an
 * {@link IdxFormatException} naming the file.
 */
public final class Idx {
  private static final int UBYTE = 0x08;
  /** Largest tensor read (elements); far above the 47 M bytes of the MNIST training images. */
  public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8; // the largest Java byte array

  private Idx() {}

  /** An unsigned-byte tensor: its dimensions and values 0..255. */
  public record UByteTensor(int[] dims, byte[] data) {
    public int dim(int i) {
      return dims[i];
    }
  }

  /** Reads an unsigned-byte IDX tensor of the expected rank (1 for labels, 3 for images). */
  public static UByteTensor read(Path file, int expectedRank) throws IOException {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
      raw.mark(2);
      int b0 = raw.read();
      int b1 = raw.read();
      raw.reset();
      InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw) : raw;
      return parse(file, new DataInputStream(in), expectedRank);
    } catch (ZipException | EOFException e) {
      throw new IdxFormatException(file + ": truncated or corrupt (" + e.getMessage() + ")");
    }
  }

  private static UByteTensor parse(Path file, DataInputStream in, int expectedRank) throws IOException {
    int zero1 = in.read();
    int zero2 = in.read();
    int type = in.read();
    int rank = in.read();
    if (rank < 0) {
      throw new IdxFormatException(file + ": truncated: shorter than the 4-byte magic number");
    }
    if (zero1 != 0 || zero2 != 0) {
      throw new IdxFormatException(file + ": bad magic number (first bytes " + zero1 + ", " + zero2
          + "; expected 0, 0): not an IDX file");
    }
    if (type != UBYTE) {
      throw new IdxFormatException(file + ": element type 0x" + Integer.toHexString(type)
          + " is not supported; expected 0x08 (unsigned byte)");
    }
    if (rank != expectedRank) {
      throw new IdxFormatException(file + ": rank " + rank + "; expected " + expectedRank);
    }
    int[] dims = new int[rank];
    long n = 1;
    for (int i = 0; i < rank; i++) {
      dims[i] = in.readInt();
      if (dims[i] <= 0) {
        throw new IdxFormatException(file + ": dimension " + i + " is " + dims[i] + "; expected > 0");
      }
      n *= dims[i];
      if (n > MAX_ELEMENTS) {
        throw new IdxFormatException(file + ": dimensions " + Arrays.toString(Arrays.copyOf(dims, i + 1))
            + " exceed " + MAX_ELEMENTS + " elements");
      }
    }
    // the declared size bounds what is read, so a gzip stream cannot inflate past it; and a size this JVM's
    // heap cannot hold is refused before reading (a small gzip file can declare and hold 2 GB of zeros)
    long maxHeap = Runtime.getRuntime().maxMemory();
    if (n > maxHeap) {
      throw new IdxFormatException(file + ": dimensions " + Arrays.toString(dims) + " declare " + n
          + " bytes, more than this JVM's maximum heap of " + maxHeap + " bytes (-Xmx)");
    }
    // readNBytes(len) grows its buffer with the data actually present: a header declaring 2 GB in a
    // short file costs what the file holds, not 2 GB (found by IdxFuzzTest)
    byte[] data;
    try {
      data = in.readNBytes((int) n);
    } catch (OutOfMemoryError e) {
      throw new IdxFormatException(file + ": not enough heap for the " + n + " bytes its dimensions "
          + Arrays.toString(dims) + " declare (maximum heap " + maxHeap + " bytes, -Xmx)");
    }
    if (data.length < n) {
      throw new IdxFormatException(file + ": truncated: dimensions " + Arrays.toString(dims) + " declare " + n
          + " bytes of data but only " + data.length + " follow");
    }
    return new UByteTensor(dims, data);
  }

  /** Writes an unsigned-byte IDX tensor (gzip-compressed if {@code gzip}). */
  public static void write(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
    long n = 1;
    for (int d : dims) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException("dimensions " + Arrays.toString(dims) + " need " + n + " bytes, got " + data.length);
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    buf.write(new byte[] {0, 0, UBYTE, (byte) dims.length});
    for (int d : dims) {
      buf.write(new byte[] {(byte) (d >>> 24), (byte) (d >>> 16), (byte) (d >>> 8), (byte) d});
    }
    buf.write(data);
    try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(file)) : Files.newOutputStream(file)) {
      buf.writeTo(out);
    }
  }

  /**
   * Images (N, H, W) as model inputs (N, 1, H + 2·pad, W + 2·pad): x = pixel/127.5 − 1 in [−1, 1], the
   * border filled with −1 (black), as the 28×28 digits padded to 32×32.
   */
  public static INDArray toModelInput(UByteTensor images, int pad) {
    if (images.dims().length != 3) {
      throw new IllegalArgumentException("expected images of rank 3, got " + images.dims().length);
    }
    if (pad < 0) {
      throw new IllegalArgumentException("pad = " + pad + "; expected >= 0");
    }
    int n = images.dim(0);
    int h = images.dim(1);
    int w = images.dim(2);
    int hp = Math.addExact(h, 2 * pad);
    int wp = Math.addExact(w, 2 * pad);
    long size = (long) n * hp * wp;
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("images " + Arrays.toString(images.dims()) + " padded by " + pad + " make "
          + size + " values, more than one array holds (" + (Integer.MAX_VALUE - 8) + "); load fewer images at a time");
    }
    float[] out = new float[(int) size];
    Arrays.fill(out, -1f);
    byte[] d = images.data();
    for (int i = 0; i < n; i++) {
      for (int r = 0; r < h; r++) {
        for (int c = 0; c < w; c++) {
          out[(i * hp + r + pad) * wp + c + pad] = (d[(i * h + r) * w + c] & 0xFF) / 127.5f - 1f;
        }
      }
    }
    return Nd4j.create(out, new long[] {n, 1, hp, wp}, DataType.FLOAT);
  }

  /** Labels (N) as int64. */
  public static INDArray toLabels(UByteTensor labels) {
    long[] l = new long[labels.data().length];
    for (int i = 0; i < l.length; i++) {
      l[i] = labels.data()[i] & 0xFF;
    }
    return Nd4j.createFromArray(l);
  }
}
