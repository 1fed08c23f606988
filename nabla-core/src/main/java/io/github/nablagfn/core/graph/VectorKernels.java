package io.github.nablagfn.core.graph;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API loops of {@link JavaKernel} over elements [from, to) of float32 byte buffers, and the
 * arithmetic every kernel shares. The only classes that touch {@code jdk.incubator.vector} (this one and
 * {@link GroupNormKernels}) are loaded only when {@link FastKernels#enabled()}.
 *
 * <p><b>Same bits in every JIT state.</b> The Vector API runs the same code two ways: interpreted or compiled
 * by C1, as Java loops over the lanes, and compiled by C2, as vector instructions. Lanewise {@code EXP} and
 * {@code POW} call the JDK's scalar functions in the first and a vector math library in the second, and
 * {@code reduceLanes(ADD)} sums the lanes in another order: each may differ by an ulp between the first
 * iterations of a process and the later ones. Where a loss subtracts two evaluations of one network (the
 * policy and its adapters-disabled reference, or the sampling pass and the training pass) that ulp does not
 * cancel and is amplified by 1/σ². So the kernels use only operations IEEE 754 rounds exactly (add, sub, mul,
 * div, min, max, conversions, shifts): {@link #exp} is a polynomial over them, and lane sums run in lane
 * order ({@link #sumLanes}). The scalar tails use the same arithmetic, so an element's value does not depend
 * on whether it falls in a vector or in the tail, nor on the vector width.
 *
 * <p><b>No vector crosses a method boundary.</b> C2 turns Vector API calls into vector instructions only
 * where the vector's concrete class (its shape) is a compile-time constant. A helper taking or returning a
 * {@code FloatVector} that the JIT compiles on its own (it does, once the helper is hot) does not know it, so
 * it runs the API's Java fallback (a loop over the lanes, arrays allocated per call) and, being large then,
 * is no longer inlined into its callers: whether a process's kernels run fast or several times slower would
 * then depend on the order of compilation. So every method here takes and returns arrays, buffers and
 * indices, and builds its vectors from the constant {@link #S}: compiled alone or inlined, it vectorises. The
 * buffer kernels pass through a scratch array of {@link #CHUNK} elements (L1-resident) so that e^x has one
 * vector loop ({@link #exp(float[], float[], int)}).
 */
final class VectorKernels {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();
  /** Elements per pass of the buffer kernels through their scratch array (2 KB, in L1). */
  static final int CHUNK = 512;

  // exp(x) = 2^k · e^r with k = round(x / ln 2), r = x − k·ln 2 (ln 2 split into an exactly representable
  // head and a tail), e^r by a degree-7 polynomial on |r| ≤ ln 2 / 2 (Cephes' expf coefficients, ≤ 1 ulp).
  private static final float LOG2E = 1.44269504088896341f;
  private static final float LN2_HI = 0.693359375f;
  private static final float LN2_LO = -2.12194440e-4f;
  private static final float ROUND = 12582912f; // 1.5·2^23: adding and subtracting it rounds to an integer
  /**
   * t = y + 1.5·2^23 holds the integer k = round(y) in its low mantissa bits (its bits are 0x4B400000 + k for
   * |k| < 2^22), so adding 127 − 0x4B400000 to them gives k's biased exponent without a float-to-int
   * conversion (which JDK 17's C2 does not vectorise for 16 lanes, leaving the loop in Java code).
   */
  private static final int EXPONENT_FROM_ROUNDED = 127 - 0x4B400000;
  /** Arguments are clamped to [LOW, HIGH] so that 2^k stays a normal float (e^−87 ≈ 1.6e−38, e^88 ≈ 1.7e38). */
  private static final float LOW = -87f;
  private static final float HIGH = 88f;
  private static final float P0 = 1.9875691500e-4f;
  private static final float P1 = 1.3981999507e-3f;
  private static final float P2 = 8.3334519073e-3f;
  private static final float P3 = 4.1665795894e-2f;
  private static final float P4 = 1.6666665459e-1f;
  private static final float P5 = 5.0000001201e-1f;

  private VectorKernels() {}

  /**
   * e[i] = e^x[i] for i < len, x in [−87, 88] (clamped outside), within 2 ulp; the same bits as
   * {@link #exp(float)} per element. {@code e} may be {@code x}.
   */
  static void exp(float[] x, float[] e, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += S.length()) {
      FloatVector v = FloatVector.fromArray(S, x, i).max(LOW).min(HIGH);
      FloatVector t = v.mul(LOG2E).add(ROUND);
      FloatVector k = t.sub(ROUND);
      FloatVector r = v.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
      FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5);
      FloatVector q = p.mul(r.mul(r)).add(r).add(1f);
      IntVector bits = t.reinterpretAsInts().add(EXPONENT_FROM_ROUNDED).lanewise(VectorOperators.LSHL, 23);
      q.mul(bits.reinterpretAsFloats()).intoArray(e, i);
    }
    for (; i < len; i++) {
      e[i] = exp(x[i]);
    }
  }

  /** e^x for x in [−87, 88] (clamped outside): the scalar twin of {@link #exp(float[], float[], int)}. */
  static float exp(float x) {
    float v = Math.min(Math.max(x, LOW), HIGH);
    float t = v * LOG2E + ROUND;
    float k = t - ROUND;
    float r = v - k * LN2_HI - k * LN2_LO;
    float p = ((((r * P0 + P1) * r + P2) * r + P3) * r + P4) * r + P5;
    float e = p * (r * r) + r + 1f;
    return e * Float.intBitsToFloat((Float.floatToRawIntBits(t) + EXPONENT_FROM_ROUNDED) << 23);
  }

  /** s[i] = 1 / (1 + e^−v[i]) for i < len; {@code s} may be {@code v}. */
  static void sigmoid(float[] v, float[] s, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += S.length()) {
      FloatVector.fromArray(S, v, i).neg().intoArray(s, i);
    }
    for (; i < len; i++) {
      s[i] = -v[i];
    }
    exp(s, s, len);
    i = 0;
    for (int up = S.loopBound(len); i < up; i += S.length()) {
      FloatVector.broadcast(S, 1f).div(FloatVector.fromArray(S, s, i).add(1f)).intoArray(s, i);
    }
    for (; i < len; i++) {
      s[i] = 1f / (s[i] + 1f);
    }
  }

  /** 1 / (1 + e^−x). */
  static float sigmoid(float x) {
    return 1f / (1f + exp(-x));
  }

  /** The sum of lanes[0..S.length()), added in lane order (the caller stores its accumulator there). */
  static float sumLanes(float[] lanes) {
    float s = 0;
    for (int i = 0; i < S.length(); i++) {
      s += lanes[i];
    }
    return s;
  }

  /** dst[i] = the float at element off + i of {@code src}, for i < len. */
  static void load(ByteBuffer src, int off, float[] dst, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += S.length()) {
      FloatVector.fromByteBuffer(S, src, (off + i) * 4, ORDER).intoArray(dst, i);
    }
    for (; i < len; i++) {
      dst[i] = src.getFloat((off + i) * 4);
    }
  }

  /** Element off + i of {@code dst} = src[i], for i < len. */
  static void store(float[] src, ByteBuffer dst, int off, int len) {
    int i = 0;
    for (int up = S.loopBound(len); i < up; i += S.length()) {
      FloatVector.fromArray(S, src, i).intoByteBuffer(dst, (off + i) * 4, ORDER);
    }
    for (; i < len; i++) {
      dst.putFloat((off + i) * 4, src[i]);
    }
  }

  static void sigmoid(ByteBuffer x, ByteBuffer y, int from, int to) {
    float[] s = new float[CHUNK];
    for (int c = from; c < to; c += CHUNK) {
      int n = Math.min(CHUNK, to - c);
      load(x, c, s, n);
      sigmoid(s, s, n);
      store(s, y, c, n);
    }
  }

  static void sigmoidBackward(ByteBuffer x, ByteBuffer g, ByteBuffer dx, int from, int to) {
    float[] s = new float[CHUNK];
    for (int c = from; c < to; c += CHUNK) {
      int n = Math.min(CHUNK, to - c);
      load(x, c, s, n);
      sigmoid(s, s, n);
      int i = 0;
      for (int up = S.loopBound(n); i < up; i += S.length()) {
        FloatVector sv = FloatVector.fromArray(S, s, i);
        FloatVector.fromByteBuffer(S, g, (c + i) * 4, ORDER).mul(sv).mul(sv.neg().add(1f))
            .intoByteBuffer(dx, (c + i) * 4, ORDER);
      }
      for (; i < n; i++) {
        dx.putFloat((c + i) * 4, g.getFloat((c + i) * 4) * s[i] * (1f - s[i]));
      }
    }
  }
}
