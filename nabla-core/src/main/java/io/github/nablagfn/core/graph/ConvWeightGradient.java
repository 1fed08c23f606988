package io.github.nablagfn.core.graph;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link JavaKernel#CONV2D_WEIGHT_GRADIENT}: the weight and bias gradients of a stride-1, undilated, channels-last
 * convolution whose input gradient nothing reads (a network's first layer, fed by a placeholder), which ND4J
 * 1.0.0-M2.1's {@code conv2d_bp} computes anyway, and slowly where the input has few channels (docs/performance.md).
 * Inputs (x, w[, b], dy), outputs (dx, dw[, db]) as {@code conv2d_bp}'s; dx is left as it is:
 *
 * <pre>
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh + kh − pH, ow + kw − pW, ci] · dy[b, oh, ow, co]   (x outside is 0)
 *   db[co]             = Σ_{b, oh, ow} dy[b, oh, ow, co]
 * </pre>
 *
 * <p>With at most {@link NarrowConvBackward#MAX_OUTPUT_CHANNELS} output channels the weight gradient is
 * {@link NarrowConvBackward}'s (vectorised over the input channels); with more, it is vectorised over the output
 * channels (a pixel's output gradients are contiguous): per unit of one tap and two input channels, 2 × 4 vector
 * accumulators of output channels, fused multiply-adds over each row's pixels, on heap copies of the rows; threads
 * split the units. Each element of dW and db is summed by one thread, in pixel order, in its own lane, so the bits
 * do not depend on the thread count, the vector width or the JIT state ({@link VectorKernels}).
 */
final class ConvWeightGradient {
  private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Input channels per unit of work. */
  private static final int PAIR = 2;

  private ConvWeightGradient() {}

  /**
   * Whether the kernel takes the call: inputs (x, w[, b], dy) and outputs (dx, dw[, db]) as
   * {@link NarrowConvBackward#accepts}, any number of output channels.
   */
  static boolean accepts(INDArray[] in, INDArray[] out, long[] a) {
    return NarrowConvBackward.geometry(in, out, a) != null;
  }

  static void run(INDArray[] in, INDArray[] out, long[] a, int threads) {
    TransposedConv.Geometry g = NarrowConvBackward.geometry(in, out, a);
    if (g == null) {
      throw new IllegalArgumentException("conv2d_bp: shapes or arguments the Java kernel does not take");
    }
    ByteBuffer x = FastKernels.bytes(in[0]);
    ByteBuffer dy = FastKernels.bytes(in[in.length - 1]);
    ByteBuffer dw = FastKernels.bytes(out[1]);
    if (g.co() <= NarrowConvBackward.MAX_OUTPUT_CHANNELS) {
      NarrowConvBackward.weightGradient(x, dy, dw, g, threads);
    } else {
      weightGradient(x, dy, dw, g, threads);
    }
    if (in.length == 4) {
      biasGradient(dy, FastKernels.bytes(out[2]), g);
    }
    Reference.reachabilityFence(in);
    Reference.reachabilityFence(out);
  }

  /** dW vectorised over the output channels, units (tap, pair of input channels) split over threads. */
  private static void weightGradient(ByteBuffer x, ByteBuffer dy, ByteBuffer dw, TransposedConv.Geometry g,
      int threads) {
    int units = g.kh() * g.kw() * ((g.ci() + PAIR - 1) / PAIR);
    long work = (long) g.batch() * g.ho() * g.wo() * g.ci() * g.co() * g.kh() * g.kw();
    FastKernels.parallel(units, threads, (from, to) -> units(x, dy, dw, g, from, to),
        work < (1 << 20) ? Integer.MAX_VALUE : 2, 1);
  }

  /** What a weight-gradient loop does with one output row for one unit of work. */
  @FunctionalInterface
  interface Row {
    /**
     * Accumulates unit u's share of one output row: x's row (heap copy; x at output column ow starts at
     * xAt + ow·Ci), dy's row, over the output columns [owFrom, owTo) that meet x.
     */
    void run(int u, float[] xRow, float[] dyRow, int xAt, int owFrom, int owTo);
  }

  /**
   * Walks the rows for units [from, to) of a weight gradient (unit u belongs to tap u / perTap, tap = kh·kW + kw).
   * Rows outermost, on heap copies (the Vector API reads heap arrays several times faster than direct buffers in
   * JDK 17): per output row, the row of dy, and the kH rows of x it meets in a ring of kH row buffers (each row of
   * x is copied once per image); units in order within a row, so each accumulates in pixel order.
   */
  static void walkRows(ByteBuffer x, ByteBuffer dy, TransposedConv.Geometry g, int from, int to, int perTap,
      Row body) {
    int ci = g.ci();
    int co = g.co();
    FloatBuffer xf = x.asFloatBuffer();
    FloatBuffer dyf = dy.asFloatBuffer();
    int rowLength = g.w() * ci;
    float[][] ring = new float[g.kh()][rowLength];
    int[] ringRow = new int[g.kh()];
    float[] dyRow = new float[g.wo() * co];
    for (int b = 0; b < g.batch(); b++) {
      Arrays.fill(ringRow, -1);
      for (int oh = 0; oh < g.ho(); oh++) {
        dyf.get((b * g.ho() + oh) * g.wo() * co, dyRow, 0, dyRow.length);
        for (int u = from; u < to; u++) {
          int tap = u / perTap;
          int kh = tap / g.kw();
          int kw = tap % g.kw();
          int ih = oh + kh - g.ph();
          int owFrom = Math.max(0, g.pw() - kw);
          int owTo = Math.min(g.wo(), g.w() + g.pw() - kw);
          if (ih < 0 || ih >= g.h() || owFrom >= owTo) {
            continue;
          }
          int slot = ih % g.kh();
          if (ringRow[slot] != ih) {
            xf.get((b * g.h() + ih) * rowLength, ring[slot], 0, rowLength);
            ringRow[slot] = ih;
          }
          body.run(u, ring[slot], dyRow, (kw - g.pw()) * ci, owFrom, owTo);
        }
      }
    }
  }

  /** dW for units [from, to) (unit = tap · pairs + pair, tap = kh·kW + kw), rows walked by {@link #walkRows}. */
  private static void units(ByteBuffer x, ByteBuffer dy, ByteBuffer dw, TransposedConv.Geometry g, int from, int to) {
    int ci = g.ci();
    int co = g.co();
    int pairs = (ci + PAIR - 1) / PAIR;
    float[] acc = new float[(to - from) * PAIR * co]; // [unit − from][channel of the pair][co]
    walkRows(x, dy, g, from, to, pairs, (u, xRow, dyRow, xAt, owFrom, owTo) -> {
      int c0 = (u % pairs) * PAIR;
      int at = (u - from) * PAIR * co;
      if (c0 + 1 < ci) {
        pair(xRow, dyRow, acc, at, xAt + c0, ci, co, owFrom, owTo);
      } else {
        single(xRow, dyRow, acc, at, xAt + c0, ci, co, owFrom, owTo);
      }
    });
    for (int u = from; u < to; u++) {
      int tap = u / pairs;
      int c0 = (u % pairs) * PAIR;
      for (int k = 0; k < PAIR && c0 + k < ci; k++) {
        int at = (u - from) * PAIR * co + k * co;
        for (int o = 0; o < co; o++) {
          dw.putFloat(((tap * ci + c0 + k) * co + o) * 4, acc[at + o]);
        }
      }
    }
  }

  /**
   * acc[at + k·Co + o] += Σ_{ow ∈ [owFrom, owTo)} x[xAt + ow·Ci + k] · dy[ow·Co + o] for k = 0, 1 and o &lt; Co:
   * blocks of four vectors of output channels (eight accumulators, the four dy vectors shared by both channels),
   * then single vectors, then a scalar tail.
   */
  private static void pair(float[] x, float[] dy, float[] acc, int at, int xAt, int ci, int co, int owFrom,
      int owTo) {
    int at1 = at + co;
    int o = 0;
    for (; o + 4 * L <= co; o += 4 * L) {
      FloatVector p0 = FloatVector.fromArray(S, acc, at + o);
      FloatVector p1 = FloatVector.fromArray(S, acc, at + o + L);
      FloatVector p2 = FloatVector.fromArray(S, acc, at + o + 2 * L);
      FloatVector p3 = FloatVector.fromArray(S, acc, at + o + 3 * L);
      FloatVector q0 = FloatVector.fromArray(S, acc, at1 + o);
      FloatVector q1 = FloatVector.fromArray(S, acc, at1 + o + L);
      FloatVector q2 = FloatVector.fromArray(S, acc, at1 + o + 2 * L);
      FloatVector q3 = FloatVector.fromArray(S, acc, at1 + o + 3 * L);
      for (int ow = owFrom; ow < owTo; ow++) {
        int d = ow * co + o;
        FloatVector d0 = FloatVector.fromArray(S, dy, d);
        FloatVector d1 = FloatVector.fromArray(S, dy, d + L);
        FloatVector d2 = FloatVector.fromArray(S, dy, d + 2 * L);
        FloatVector d3 = FloatVector.fromArray(S, dy, d + 3 * L);
        FloatVector xp = FloatVector.broadcast(S, x[xAt + ow * ci]);
        FloatVector xq = FloatVector.broadcast(S, x[xAt + ow * ci + 1]);
        p0 = d0.fma(xp, p0);
        p1 = d1.fma(xp, p1);
        p2 = d2.fma(xp, p2);
        p3 = d3.fma(xp, p3);
        q0 = d0.fma(xq, q0);
        q1 = d1.fma(xq, q1);
        q2 = d2.fma(xq, q2);
        q3 = d3.fma(xq, q3);
      }
      p0.intoArray(acc, at + o);
      p1.intoArray(acc, at + o + L);
      p2.intoArray(acc, at + o + 2 * L);
      p3.intoArray(acc, at + o + 3 * L);
      q0.intoArray(acc, at1 + o);
      q1.intoArray(acc, at1 + o + L);
      q2.intoArray(acc, at1 + o + 2 * L);
      q3.intoArray(acc, at1 + o + 3 * L);
    }
    for (; o + L <= co; o += L) {
      FloatVector p = FloatVector.fromArray(S, acc, at + o);
      FloatVector q = FloatVector.fromArray(S, acc, at1 + o);
      for (int ow = owFrom; ow < owTo; ow++) {
        FloatVector d = FloatVector.fromArray(S, dy, ow * co + o);
        p = d.fma(FloatVector.broadcast(S, x[xAt + ow * ci]), p);
        q = d.fma(FloatVector.broadcast(S, x[xAt + ow * ci + 1]), q);
      }
      p.intoArray(acc, at + o);
      q.intoArray(acc, at1 + o);
    }
    for (; o < co; o++) {
      float p = acc[at + o];
      float q = acc[at1 + o];
      for (int ow = owFrom; ow < owTo; ow++) {
        p = Math.fma(dy[ow * co + o], x[xAt + ow * ci], p);
        q = Math.fma(dy[ow * co + o], x[xAt + ow * ci + 1], q);
      }
      acc[at + o] = p;
      acc[at1 + o] = q;
    }
  }

  /** {@link #pair} for the last input channel when Ci is odd. */
  private static void single(float[] x, float[] dy, float[] acc, int at, int xAt, int ci, int co, int owFrom,
      int owTo) {
    int o = 0;
    for (; o + L <= co; o += L) {
      FloatVector p = FloatVector.fromArray(S, acc, at + o);
      for (int ow = owFrom; ow < owTo; ow++) {
        p = FloatVector.fromArray(S, dy, ow * co + o).fma(FloatVector.broadcast(S, x[xAt + ow * ci]), p);
      }
      p.intoArray(acc, at + o);
    }
    for (; o < co; o++) {
      float p = acc[at + o];
      for (int ow = owFrom; ow < owTo; ow++) {
        p = Math.fma(dy[ow * co + o], x[xAt + ow * ci], p);
      }
      acc[at + o] = p;
    }
  }

  /**
   * db[co] = Σ dy[·, co] in pixel order, each output channel in its own lane (the bits of a scalar sum per channel),
   * on the calling thread: B·Ho·Wo·Co additions.
   */
  static void biasGradient(ByteBuffer dy, ByteBuffer db, TransposedConv.Geometry g) {
    int co = g.co();
    int pixels = g.batch() * g.ho() * g.wo();
    FloatBuffer dyf = dy.asFloatBuffer();
    float[] row = new float[Math.min(pixels, 1024) * co];
    float[] s = new float[co];
    int rowPixels = row.length / co;
    for (int p0 = 0; p0 < pixels; p0 += rowPixels) {
      int n = Math.min(rowPixels, pixels - p0);
      dyf.get(p0 * co, row, 0, n * co);
      int o = 0;
      for (; o + L <= co; o += L) {
        FloatVector acc = FloatVector.fromArray(S, s, o);
        for (int p = 0; p < n; p++) {
          acc = acc.add(FloatVector.fromArray(S, row, p * co + o));
        }
        acc.intoArray(s, o);
      }
      for (; o < co; o++) {
        float acc = s[o];
        for (int p = 0; p < n; p++) {
          acc += row[p * co + o];
        }
        s[o] = acc;
      }
    }
    for (int o = 0; o < co; o++) {
      db.putFloat(o * 4, s[o]);
    }
  }
}
