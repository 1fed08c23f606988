package io.github.nablagfn.core.graph;

import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link JavaKernel#DECONV2D}: a stride-1, undilated {@code deconv2d} without bias, channels-last, as the forward
 * convolution it equals.
 *
 * <p>Take the convolution y = conv(x, w) with weights w (kH, kW, Ci, Co), stride 1 and padding (p, q):
 * y[oh, ow] = Σ_{kh, kw} x[oh + kh − p, ow + kw − q]·w[kh, kw] (over channels). Its input gradient,
 * dL/dx[i, j] = Σ_{kh, kw} dL/dy[i − kh + p, j − kw + q]·w[kh, kw], is {@code deconv2d(dL/dy, w)} with the same
 * arguments (deconv2d's weights (kH, kW, oC, iC) are w's axes as they are), and it is also a forward convolution of
 * dL/dy with the kernel w'[kh', kw', co, ci] = w[kH − 1 − kh', kW − 1 − kw', ci, co] and padding
 * (kH − 1 − p, kW − 1 − q). ND4J 1.0.0-M2.1 runs {@code conv2d} faster than {@code deconv2d} at the U-Net's larger
 * sizes (docs/performance.md), so the kernel flips the (small) weights in Java and calls ND4J's {@code conv2d}.
 * {@link PlanRewrites#substituteInputOnlyConvBackprop} makes such a deconv2d of every input-only {@code conv2d_bp}.
 */
final class TransposedConv {
  private TransposedConv() {}

  /** conv2d's integer arguments: kH, kW, sH, sW, pH, pW, dH, dW, same mode, data format (1 = NHWC), weight format. */
  private static final int SAME = 8;
  private static final int FORMAT = 9;
  private static final int WEIGHT_FORMAT = 10;
  /**
   * System property: output pixels (batch × height × width) below which ND4J's own deconv2d runs (default 8192:
   * at 64×8×8 and 8×16×16 ND4J's was faster than the flipped convolution, at 8×32×32, 64×16×16 and 64×32×32
   * slower or as fast; docs/performance.md, "Frozen convolutions").
   */
  static final String MIN_PIXELS_PROPERTY = "nabla.javaDeconvMinPixels";
  static final int MIN_PIXELS = 8192;

  /** The sizes of one convolution: batch, input (x) and output (y) spatial sizes and channels, kernel, padding. */
  record Geometry(int batch, int h, int w, int ci, int ho, int wo, int co, int kh, int kw, int ph, int pw) {}

  /**
   * Whether the kernel takes the call: inputs (y, w) without bias and output x, all dense float32; stride 1,
   * dilation 1, channels-last, weights (kH, kW, oC, iC); padding at most kernel − 1 (odd kernels in same mode);
   * shapes consistent; at least {@link #MIN_PIXELS_PROPERTY} output pixels; every array under 2 GB.
   */
  static boolean accepts(INDArray[] in, INDArray[] out, long[] a) {
    if (in.length != 2 || out.length != 1 || a == null || a.length < 10) {
      return false;
    }
    if (!FastKernels.allDense(in) || !FastKernels.allDense(out) || !supportedArguments(a)) {
      return false;
    }
    Geometry g = geometry(out[0], in[1], in[0], a);
    return g != null && (long) g.batch() * g.h() * g.w() >= Integer.getInteger(MIN_PIXELS_PROPERTY, MIN_PIXELS);
  }

  /** Stride 1, dilation 1, channels-last, weights (kH, kW, Ci, Co): conv2d's integer arguments the kernels take. */
  static boolean supportedArguments(long[] a) {
    return a != null && a.length >= 10 && a[2] == 1 && a[3] == 1 && a[6] == 1 && a[7] == 1 && a[FORMAT] == 1
        && (a.length <= WEIGHT_FORMAT || a[WEIGHT_FORMAT] == 0);
  }

  /**
   * The sizes of the convolution x → y with weights w (deconv2d's output, weights and input), or null if its
   * shapes or padding are not the kernel's.
   */
  static Geometry geometry(INDArray x, INDArray w, INDArray y, long[] a) {
    if (x.rank() != 4 || w.rank() != 4 || y.rank() != 4) {
      return null;
    }
    int kh = (int) w.size(0);
    int kw = (int) w.size(1);
    if ((a[0] > 0 && a[0] != kh) || (a[1] > 0 && a[1] != kw) || w.size(2) != x.size(3)) {
      return null;
    }
    int h = (int) x.size(1);
    int wd = (int) x.size(2);
    int ph;
    int pw;
    if (a[SAME] == 1) {
      if (kh % 2 == 0 || kw % 2 == 0) {
        return null; // same mode pads an even kernel unevenly
      }
      ph = (kh - 1) / 2;
      pw = (kw - 1) / 2;
    } else {
      ph = (int) a[4];
      pw = (int) a[5];
    }
    if (ph < 0 || pw < 0 || ph > kh - 1 || pw > kw - 1) {
      return null;
    }
    int ho = h + 2 * ph - kh + 1;
    int wo = wd + 2 * pw - kw + 1;
    if (ho < 1 || wo < 1 || y.size(0) != x.size(0) || y.size(1) != ho || y.size(2) != wo
        || y.size(3) != w.size(3)) {
      return null;
    }
    return new Geometry((int) x.size(0), h, wd, (int) x.size(3), ho, wo, (int) w.size(3), kh, kw, ph, pw);
  }

  /** x = deconv2d(y, w): the forward convolution of y with the flipped, channel-swapped kernel. */
  static void run(INDArray[] in, INDArray[] out, long[] a) {
    Geometry g = geometry(out[0], in[1], in[0], a);
    if (g == null) {
      throw new IllegalArgumentException("deconv2d: shapes or arguments the Java kernel does not take");
    }
    inputGradient(in[0], in[1], g, out[0]);
  }

  /** dx = the input gradient of the convolution g with weights w for the output gradient dy. */
  static void inputGradient(INDArray dy, INDArray w, Geometry g, INDArray dx) {
    INDArray flipped = flippedWeights(w, g);
    Nd4j.exec(DynamicCustomOp.builder("conv2d").addInputs(dy, flipped).addOutputs(dx)
        .addIntegerArguments(g.kh(), g.kw(), 1, 1, g.kh() - 1 - g.ph(), g.kw() - 1 - g.pw(), 1, 1, 0, 1, 0).build());
    Reference.reachabilityFence(flipped);
  }

  /** w'[kh', kw', co, ci] = w[kH − 1 − kh', kW − 1 − kw', ci, co]. */
  static INDArray flippedWeights(INDArray w, Geometry g) {
    ByteBuffer src = FastKernels.bytes(w);
    float[] f = new float[g.kh() * g.kw() * g.ci() * g.co()];
    for (int kh = 0; kh < g.kh(); kh++) {
      for (int kw = 0; kw < g.kw(); kw++) {
        int from = ((g.kh() - 1 - kh) * g.kw() + g.kw() - 1 - kw) * g.ci() * g.co();
        int to = (kh * g.kw() + kw) * g.co() * g.ci();
        for (int ci = 0; ci < g.ci(); ci++) {
          for (int co = 0; co < g.co(); co++) {
            f[to + co * g.ci() + ci] = src.getFloat((from + ci * g.co() + co) * 4);
          }
        }
      }
    }
    Reference.reachabilityFence(w);
    return Nd4j.create(f, new long[] {g.kh(), g.kw(), g.co(), g.ci()}, DataType.FLOAT);
  }
}
