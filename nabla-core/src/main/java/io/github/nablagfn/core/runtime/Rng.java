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

  private Rng(long seed) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  /** A stream for the given run seed. */
  public static Rng of(long seed) {
    return new Rng(seed);
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
    return new Rng(mix(h ^ mix(index + 0x632BE59BD9B4E019L)));
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
    float[] data = new float[Math.toIntExact(numel(shape))];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextGaussian();
    }
    return Nd4j.create(data, shape, DataType.FLOAT);
  }

  /** A float32 array uniform in [low, high) with the given shape. */
  public INDArray uniform(double low, double high, long... shape) {
    float[] data = new float[Math.toIntExact(numel(shape))];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) (low + (high - low) * random.nextDouble());
    }
    return Nd4j.create(data, shape, DataType.FLOAT);
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
