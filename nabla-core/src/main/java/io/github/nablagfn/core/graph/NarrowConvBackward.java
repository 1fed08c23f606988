package io.github.nablagfn.core.graph;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link JavaKernel#NARROW_CONV2D_BACKWARD}: {@code conv2d_bp} of a stride-1, undilated, channels-last convolution
 * with at most {@link #MAX_OUTPUT_CHANNELS} output channels (a U-Net's output layer), where ND4J 1.0.0-M2.1's op
 * takes 5–6× PyTorch's time (docs/performance.md). Inputs (x, w[, b], dy), outputs (dx, dw[, db]):
 *
 * <pre>
 *   dx                 = deconv2d(dy, w), as {@link TransposedConv} runs it (ND4J's conv2d with the flipped kernel)
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh + kh − pH, ow + kw − pW, ci] · dy[b, oh, ow, co]   (x outside is 0)
 *   db[co]             = Σ_{b, oh, ow} dy[b, oh, ow, co]
 * </pre>
 *
 * <p>The weight gradient is vectorised over the input channels (a pixel's channels are contiguous), one
 * accumulator per vector of channels and output channel, with fused multiply-adds over the pixels in
 * (b, oh, ow) order; threads split the taps, and each walks the rows once for all its taps. Each element of dW
 * and db is summed by one thread in pixel order and in its own lane, so the bits do not depend on the thread
 * count, the vector width or the JIT state (a fused multiply-add is exactly rounded in compiled and in
 * interpreted code, {@link VectorKernels}).
 */
final class NarrowConvBackward {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** The most output channels the kernel takes: beyond, ND4J's conv2d_bp is as fast as PyTorch's. */
  static final int MAX_OUTPUT_CHANNELS = 4;

  private NarrowConvBackward() {}

  /**
   * Whether the kernel takes the call: inputs (x, w[, b], dy) and outputs (dx, dw[, db]), all dense float32 of
   * consistent shapes; the conditions of {@link TransposedConv#geometry} (stride 1, dilation 1, channels-last,
   * weights (kH, kW, Ci, Co), padding at most kernel − 1); Co ≤ {@link #MAX_OUTPUT_CHANNELS}.
   */
  static boolean accepts(INDArray[] in, INDArray[] out, long[] a) {
    TransposedConv.Geometry g = geometry(in, out, a);
    return g != null && g.co() <= MAX_OUTPUT_CHANNELS;
  }

  /**
   * The convolution's geometry when inputs (x, w[, b], dy) and outputs (dx, dw[, db]) are all dense float32 of
   * consistent shapes and the arguments meet {@link TransposedConv#geometry}'s conditions; null otherwise.
   */
  static TransposedConv.Geometry geometry(INDArray[] in, INDArray[] out, long[] a) {
    if ((in.length != 3 && in.length != 4) || out.length != in.length - 1 || a == null || a.length < 10) {
      return null;
    }
    if (!FastKernels.allDense(in) || !FastKernels.allDense(out) || !TransposedConv.supportedArguments(a)) {
      return null;
    }
    TransposedConv.Geometry g = TransposedConv.geometry(in[0], in[1], in[in.length - 1], a);
    boolean consistent = g != null && out[0].equalShapes(in[0]) && out[1].equalShapes(in[1])
        && (in.length == 3 || (in[2].length() == g.co() && out[2].length() == g.co()));
    return consistent ? g : null;
  }

  static void run(INDArray[] in, INDArray[] out, long[] a, int threads) {
    INDArray dyArr = in[in.length - 1];
    TransposedConv.Geometry g = geometry(in, out, a);
    if (g == null) {
      throw new IllegalArgumentException("conv2d_bp: shapes or arguments the Java kernel does not take");
    }
    TransposedConv.inputGradient(dyArr, in[1], g, out[0]);
    ByteBuffer dy = FastKernels.bytes(dyArr);
    weightGradient(FastKernels.bytes(in[0]), dy, FastKernels.bytes(out[1]), g, threads);
    if (in.length == 4) {
      ConvWeightGradient.biasGradient(dy, FastKernels.bytes(out[2]), g);
    }
    Reference.reachabilityFence(in);
    Reference.reachabilityFence(out);
  }

  /** dW vectorised over the input channels, taps split over threads. */
  static void weightGradient(ByteBuffer x, ByteBuffer dy, ByteBuffer dw, TransposedConv.Geometry g, int threads) {
    int taps = g.kh() * g.kw();
    long work = (long) g.batch() * g.ho() * g.wo() * g.ci() * g.co() * taps;
    FastKernels.parallel(taps, threads, (from, to) -> weightGradient(x, dy, dw, g, from, to),
        work < (1 << 20) ? Integer.MAX_VALUE : 2, 1);
  }

  /** dW for taps [from, to) (tap = kh·kW + kw), rows walked by {@link ConvWeightGradient#walkRows}. */
  private static void weightGradient(ByteBuffer x, ByteBuffer dy, ByteBuffer dw, TransposedConv.Geometry g, int from,
      int to) {
    int ci = g.ci();
    int co = g.co();
    float[] acc = new float[(to - from) * co * ci]; // [tap − from][co][ci]
    ConvWeightGradient.walkRows(x, dy, g, from, to, 1, (tap, xRow, dyRow, xAt, owFrom, owTo) -> {
      for (int o = 0; o < co; o++) {
        accumulateRow(xRow, dyRow, acc, ((tap - from) * co + o) * ci, xAt, o, ci, co, owFrom, owTo);
      }
    });
    for (int tap = from; tap < to; tap++) {
      for (int c = 0; c < ci; c++) {
        for (int o = 0; o < co; o++) {
          dw.putFloat(((tap * ci + c) * co + o) * 4, acc[((tap - from) * co + o) * ci + c]);
        }
      }
    }
  }

  /** acc[at + c] += Σ_{ow ∈ [owFrom, owTo)} x[xAt + ow·Ci + c] · dy[dyAt + ow·Co], for c < Ci. */
  private static void accumulateRow(float[] x, float[] dy, float[] acc, int at, int xAt, int dyAt, int ci, int co,
      int owFrom, int owTo) {
    int c = 0;
    for (; c + 2 * L <= ci; c += 2 * L) {
      FloatVector a0 = FloatVector.fromArray(S, acc, at + c);
      FloatVector a1 = FloatVector.fromArray(S, acc, at + c + L);
      for (int ow = owFrom; ow < owTo; ow++) {
        FloatVector d = FloatVector.broadcast(S, dy[dyAt + ow * co]);
        int xi = xAt + ow * ci + c;
        a0 = FloatVector.fromArray(S, x, xi).fma(d, a0);
        a1 = FloatVector.fromArray(S, x, xi + L).fma(d, a1);
      }
      a0.intoArray(acc, at + c);
      a1.intoArray(acc, at + c + L);
    }
    for (; c + L <= ci; c += L) {
      FloatVector a0 = FloatVector.fromArray(S, acc, at + c);
      for (int ow = owFrom; ow < owTo; ow++) {
        a0 = FloatVector.fromArray(S, x, xAt + ow * ci + c).fma(FloatVector.broadcast(S, dy[dyAt + ow * co]), a0);
      }
      a0.intoArray(acc, at + c);
    }
    for (; c < ci; c++) {
      float a = acc[at + c];
      for (int ow = owFrom; ow < owTo; ow++) {
        a = Math.fma(x[xAt + ow * ci + c], dy[dyAt + ow * co], a);
      }
      acc[at + c] = a;
    }
  }
}
