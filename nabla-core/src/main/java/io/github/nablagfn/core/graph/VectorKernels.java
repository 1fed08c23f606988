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
 */
final class VectorKernels {
  static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

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

  /** e^x for x in [−87, 88] (clamped outside), within 2 ulp; the same bits as {@link #exp(float)} per lane. */
  static FloatVector exp(FloatVector x) {
    FloatVector v = x.max(LOW).min(HIGH);
    FloatVector t = v.mul(LOG2E).add(ROUND);
    FloatVector k = t.sub(ROUND);
    FloatVector r = v.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO));
    FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5);
    FloatVector e = p.mul(r.mul(r)).add(r).add(1f);
    IntVector bits = t.reinterpretAsInts().add(EXPONENT_FROM_ROUNDED).lanewise(VectorOperators.LSHL, 23);
    return e.mul(bits.reinterpretAsFloats());
  }

  /** e^x for x in [−87, 88] (clamped outside): the scalar twin of {@link #exp(FloatVector)}, bit for bit. */
  static float exp(float x) {
    float v = Math.min(Math.max(x, LOW), HIGH);
    float t = v * LOG2E + ROUND;
    float k = t - ROUND;
    float r = v - k * LN2_HI - k * LN2_LO;
    float p = ((((r * P0 + P1) * r + P2) * r + P3) * r + P4) * r + P5;
    float e = p * (r * r) + r + 1f;
    return e * Float.intBitsToFloat((Float.floatToRawIntBits(t) + EXPONENT_FROM_ROUNDED) << 23);
  }

  /** 1 / (1 + e^−x). */
  static FloatVector sigmoid(FloatVector x) {
    return FloatVector.broadcast(x.species(), 1f).div(exp(x.neg()).add(1f));
  }

  static float sigmoid(float x) {
    return 1f / (1f + exp(-x));
  }

  /** The lanes' sum, added in lane order. */
  static float sumLanes(FloatVector v) {
    float s = 0;
    for (float f : v.toArray()) {
      s += f;
    }
    return s;
  }

  static void sigmoid(ByteBuffer x, ByteBuffer y, int from, int to) {
    int i = from;
    int upper = from + S.loopBound(to - from);
    for (; i < upper; i += S.length()) {
      sigmoid(FloatVector.fromByteBuffer(S, x, i * 4, ORDER)).intoByteBuffer(y, i * 4, ORDER);
    }
    for (; i < to; i++) {
      y.putFloat(i * 4, sigmoid(x.getFloat(i * 4)));
    }
  }

  static void sigmoidBackward(ByteBuffer x, ByteBuffer g, ByteBuffer dx, int from, int to) {
    int i = from;
    int upper = from + S.loopBound(to - from);
    for (; i < upper; i += S.length()) {
      FloatVector s = sigmoid(FloatVector.fromByteBuffer(S, x, i * 4, ORDER));
      FloatVector grad = FloatVector.fromByteBuffer(S, g, i * 4, ORDER);
      grad.mul(s).mul(s.neg().add(1f)).intoByteBuffer(dx, i * 4, ORDER);
    }
    for (; i < to; i++) {
      float s = sigmoid(x.getFloat(i * 4));
      dx.putFloat(i * 4, g.getFloat(i * 4) * s * (1f - s));
    }
  }
}
