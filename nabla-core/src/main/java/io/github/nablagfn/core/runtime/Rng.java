package io.github.nablagfn.core.runtime;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeded random stream. One run seed drives everything: each consumer derives its own stream with
 * {@link #fork(String, long)} from a purpose and an index (for example {@code ("sampling", iteration)}),
 * so a stream's state is a pure function of (seed, purpose, index). Resuming a run therefore needs only
 * the iteration counter, and adding a new consumer never shifts the numbers another one sees.
 *
 * <p>Numbers are generated in Java ({@link SplittableRandom}), not by the native backend, so they are
 * identical across backends, thread counts and machines. Not thread-safe: one stream per thread.
 */
public final class Rng {
  private final long seed;
  private final SplittableRandom random;
  /** Rows [from, to) of a batch of {@code total}, or null: see {@link #rows(int, int, int)}. */
  private final int[] window;

  private Rng(long seed, int[] window) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.window = window;
  }

  /** A stream for the given run seed. */
  public static Rng of(long seed) {
    return new Rng(seed, null);
  }

  /**
   * This stream (from its start) seen through a row window: every array it and its forks draw whose
   * first dimension is {@code to − from} is drawn for the whole batch of {@code total} rows and cut to
   * rows [from, to). A worker that computes rows [from, to) of a batch therefore sees exactly the numbers
   * the whole batch's computation gives those rows, however the batch is split. Scalar draws
   * ({@link #nextInt}, {@link #nextDouble}) are batch-level and unchanged. An array draw of any other
   * first dimension is refused, since it cannot be matched to rows.
   */
  public Rng rows(int from, int to, int total) {
    if (from < 0 || to > total || from >= to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") of a batch of " + total);
    }
    return new Rng(seed, from == 0 && to == total ? null : new int[] {from, to, total});
  }

  /** The seed this stream started from. */
  public long seed() {
    return seed;
  }

  /** An independent stream for {@code purpose} and {@code index}, derived from this stream's seed only. */
  public Rng fork(String purpose, long index) {
    long h = mix(seed ^ 0x9E3779B97F4A7C15L);
    for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xFF));
    }
    return new Rng(mix(h ^ mix(index + 0x632BE59BD9B4E019L)), window);
  }

  /** Uniform in [0, bound). */
  public int nextInt(int bound) {
    return random.nextInt(bound);
  }

  /** Uniform in [0, 1). */
  public double nextDouble() {
    return random.nextDouble();
  }

  /** Standard normal. */
  public double nextGaussian() {
    return random.nextGaussian();
  }

  /** A float32 array of independent standard normals with the given shape. */
  public INDArray gaussian(long... shape) {
    float[] data = new float[Math.toIntExact(numel(windowed(shape)))];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    return Nd4j.create(cut(data, shape), shape, DataType.FLOAT);
  }

  /** A float32 array uniform in [low, high) with the given shape. */
  public INDArray uniform(double low, double high, long... shape) {
    float[] data = new float[Math.toIntExact(numel(windowed(shape)))];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (low + (high - low) * random.nextDouble());
    }
    return Nd4j.create(cut(data, shape), shape, DataType.FLOAT);
  }

  /** The shape drawn: the whole batch's when a window is set. */
  private long[] windowed(long[] shape) {
    if (window == null) {
      return shape;
    }
    if (shape.length == 0 || shape[0] != window[1] - window[0]) {
      throw new IllegalStateException("a stream windowed to rows [" + window[0] + ", " + window[1] + ") of "
          + window[2] + " cannot draw shape " + java.util.Arrays.toString(shape) + ": its first dimension must be "
          + (window[1] - window[0]));
    }
    long[] full = shape.clone();
    full[0] = window[2];
    return full;
  }

  private float[] cut(float[] all, long[] shape) {
    if (window == null) {
      return all;
    }
    int row = all.length / window[2];
    return java.util.Arrays.copyOfRange(all, window[0] * row, window[1] * row);
  }

  private static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in shape " + java.util.Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** SplitMix64 finaliser: a bijective 64-bit mixer. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
